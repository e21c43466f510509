/**
 * Downloads one file into its `.incomplete` file over several connections, each fetching a byte
 * range (as hf_transfer and Ollama do), streamed to disk piece by piece so memory stays bounded.
 *
 * - A connection that finishes early takes half of the largest range still being fetched: a range
 *   that crawls is split and its rest goes to a fresh connection, so the end of a pull does not
 *   wait on its slowest connection.
 * - A connection that sends nothing for `stallTimeoutMs` is dropped and its range continues on a
 *   new one; a dropped connection resumes from the last byte written, with backoff, until
 *   `retries` attempts in a row brought no byte.
 * - Resume: a file fetched in one stream is a prefix of the file, as huggingface_hub leaves it (it
 *   resumes from the file's size). A file fetched in ranges has holes, so before the first byte
 *   past the prefix is written the ranges already on disk are recorded in `progressFile`, and
 *   kept current while the download runs; a later pull fetches only the ranges missing.
 */
import { existsSync } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { ModelManagerError, isModelManagerError } from '../../errors.js';
import { backoffMs, interrupted, isRetryableStatus, networkError, pause, statusError, type HubTarget } from './hub-request.js';

type Interval = [start: number, end: number];

export interface RangedDownloadOptions {
  target: HubTarget;
  url: string;
  /** Headers of every request (the token, for files on the hub's own host). */
  headers: Record<string, string>;
  size: number;
  /** The partial file (`blobs/<etag>.incomplete`). */
  file: string;
  /** Where the ranges on disk are recorded while the partial file has holes. */
  progressFile: string;
  /** Connections at most. */
  connections: number;
  /** No range is split below this many bytes. */
  minSplitBytes: number;
  /** A connection that sends nothing for this long is replaced. */
  stallTimeoutMs: number;
  /** Bytes that became present on disk: those found on resume first, then as they are written. */
  onBytes(bytes: number): void;
}

interface ProgressRecord {
  size: number;
  done: Interval[];
}

/** One range being fetched; `end` shrinks when an idle connection takes its second half. */
class Segment {
  pos: number;
  constructor(
    readonly start: number,
    public end: number,
  ) {
    this.pos = start;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
}

/** Sorted, merged intervals. */
function merged(intervals: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [s, e] of [...intervals].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function missing(done: Interval[], size: number): Interval[] {
  const out: Interval[] = [];
  let at = 0;
  for (const [s, e] of done) {
    if (s > at) out.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < size) out.push([at, size]);
  return out;
}

/** The ranges already on disk: the recorded ones, else (a file left by one stream, or by huggingface_hub) its prefix. */
async function rangesOnDisk(file: string, progressFile: string, size: number): Promise<Interval[]> {
  const onDisk = (await stat(file).catch(() => undefined))?.size;
  if (onDisk === undefined) return [];
  const record = await readFile(progressFile, 'utf8').then((t) => JSON.parse(t) as ProgressRecord, () => undefined);
  if (record && record.size === size && Array.isArray(record.done)) {
    return merged(record.done.filter((r) => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])).map(([s, e]) => [Math.max(0, s), Math.min(e, onDisk, size)]));
  }
  return onDisk <= size ? merged([[0, onDisk]]) : [];
}

/** Splits the missing intervals into about `count` segments of at least `minBytes`. */
function plan(gaps: Interval[], count: number, minBytes: number): Segment[] {
  const total = gaps.reduce((n, [s, e]) => n + e - s, 0);
  const target = Math.max(minBytes, Math.ceil(total / count));
  const segments: Segment[] = [];
  for (const [s, e] of gaps) {
    const pieces = Math.max(1, Math.round((e - s) / target));
    const step = Math.ceil((e - s) / pieces);
    for (let at = s; at < e; at += step) segments.push(new Segment(at, Math.min(e, at + step)));
  }
  return segments;
}

/**
 * Fetches the bytes of `file` that are not on disk yet.
 * @throws ModelManagerError INTERRUPTED (stopped: the partial file and its record stay for a resume),
 * AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE (after the retries)
 */
export async function downloadRanges(options: RangedDownloadOptions): Promise<void> {
  const { size, file, progressFile, connections, minSplitBytes, onBytes } = options;
  // The first range that fails for good stops the others.
  const stopAll = new AbortController();
  const signal = options.target.signal ? AbortSignal.any([options.target.signal, stopAll.signal]) : stopAll.signal;
  const run = { ...options, target: { ...options.target, signal } };
  const done = await rangesOnDisk(file, progressFile, size);
  const handle = await open(file, existsSync(file) ? 'r+' : 'w+');
  const progress = new ProgressWriter(progressFile, size, done);
  try {
    if ((await handle.stat()).size > size) await handle.truncate(size);
    onBytes(done.reduce((n, [s, e]) => n + e - s, 0));
    const pending = plan(missing(done, size), connections, minSplitBytes);
    const active = new Set<Segment>();
    progress.track(pending, active);
    const holes = pending.length > 1 || (done.length > 0 && (done.length > 1 || done[0]![0] !== 0));
    // Before any hole appears on disk, the record says which bytes are real.
    if (holes) await progress.save();
    const takeWork = (): Segment | undefined => {
      const next = pending.shift();
      if (next) return next;
      let largest: Segment | undefined;
      for (const s of active) if (!largest || s.remaining > largest.remaining) largest = s;
      if (!largest || largest.remaining < 2 * minSplitBytes) return undefined;
      const mid = largest.pos + Math.floor(largest.remaining / 2);
      const rest = new Segment(mid, largest.end);
      largest.end = mid;
      return rest;
    };
    let failure: unknown;
    const worker = async (): Promise<void> => {
      for (let segment = takeWork(); segment && failure === undefined; segment = takeWork()) {
        active.add(segment);
        try {
          await fetchSegment(segment, handle, run, () => progress.saveSoon());
        } catch (error) {
          failure ??= error;
          stopAll.abort();
        } finally {
          // What a stopped segment wrote counts too: the record keeps it for the resume.
          progress.finished(segment);
          active.delete(segment);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(connections, pending.length)) }, worker));
    if (failure !== undefined) throw failure;
  } finally {
    await handle.close();
    await progress.flush();
  }
}

/** Fetches one segment, resuming after dropped or stalled connections. */
async function fetchSegment(segment: Segment, handle: FileHandle, options: RangedDownloadOptions, wrote: () => void): Promise<void> {
  const { target, url, headers, size, stallTimeoutMs, onBytes } = options;
  let failures = 0;
  while (segment.pos < segment.end) {
    if (target.signal?.aborted) throw interrupted();
    const connection = new AbortController();
    const stop = () => connection.abort();
    target.signal?.addEventListener('abort', stop, { once: true });
    let lastByteAt = Date.now();
    // One watchdog for both a silent server (no headers) and a stalled body.
    const watchdog = setInterval(() => {
      if (Date.now() - lastByteAt > stallTimeoutMs) connection.abort();
    }, Math.max(10, Math.min(1000, stallTimeoutMs / 4)));
    let retryAfter: string | null = null;
    let lastError: unknown;
    try {
      const response = await target.fetch(url, {
        headers: { ...headers, 'accept-encoding': 'identity', range: `bytes=${segment.pos}-${segment.end - 1}` },
        signal: connection.signal,
      });
      const start = Number(/^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1] ?? NaN);
      if (response.status === 206 && start === segment.pos) {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          const bytes = Math.min(chunk.byteLength, segment.end - segment.pos);
          if (bytes > 0) {
            await handle.write(chunk, 0, bytes, segment.pos);
            segment.pos += bytes;
            lastByteAt = Date.now();
            failures = 0;
            onBytes(bytes);
            wrote();
          }
          if (segment.pos >= segment.end) break;
        }
        if (segment.pos >= segment.end) return;
        lastError = new Error('the connection closed before the range was complete');
      } else if (response.status === 200 || response.status === 206 || response.status === 416) {
        await response.body?.cancel().catch(() => undefined);
        throw new ModelManagerError('HUB_UNREACHABLE', `${new URL(url).host} did not answer the byte range ${segment.pos}-${segment.end - 1} of a ${size}-byte file (HTTP ${response.status}); downloads need a server that honours Range requests`, {
          details: { url, status: response.status },
        });
      } else if (isRetryableStatus(response.status)) {
        retryAfter = response.headers.get('retry-after');
        lastError = statusError(target, response);
        await response.body?.cancel().catch(() => undefined);
      } else {
        await response.body?.cancel().catch(() => undefined);
        throw statusError(target, response);
      }
    } catch (error) {
      if (target.signal?.aborted) throw interrupted();
      if (isModelManagerError(error)) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new ModelManagerError('DISK_FULL', `the disk of ${options.file} is full: free some space, then pull again (it resumes)`, { details: { path: options.file }, cause: error });
      }
      lastError = error;
    } finally {
      clearInterval(watchdog);
      target.signal?.removeEventListener('abort', stop);
    }
    failures += 1;
    if (failures > target.retries) throw isModelManagerError(lastError) ? lastError : networkError(target, lastError);
    await pause(backoffMs(failures, target.retryBaseMs, retryAfter), target.signal);
  }
}

/** Keeps `progressFile` in step with the ranges on disk (at most once a second while bytes arrive). */
class ProgressWriter {
  #pending: Segment[] = [];
  #active = new Set<Segment>();
  #writing: Promise<void> = Promise.resolve();
  #lastSave = 0;
  #enabled = false;

  constructor(
    readonly path: string,
    readonly size: number,
    readonly done: Interval[],
  ) {}

  track(pending: Segment[], active: Set<Segment>): void {
    this.#pending = pending;
    this.#active = active;
  }

  finished(segment: Segment): void {
    this.done.push([segment.start, segment.pos]);
  }

  #record(): ProgressRecord {
    const partial = [...this.#active, ...this.#pending].map((s): Interval => [s.start, s.pos]);
    return { size: this.size, done: merged([...this.done, ...partial]) };
  }

  /** Records the ranges now; from then on the record is kept current. */
  save(): Promise<void> {
    this.#enabled = true;
    this.#lastSave = Date.now();
    const record = JSON.stringify(this.#record());
    this.#writing = this.#writing.then(async () => {
      const temp = `${this.path}.${process.pid}.tmp`;
      await writeFile(temp, record);
      await rename(temp, this.path);
    });
    return this.#writing;
  }

  saveSoon(): void {
    if (this.#enabled && Date.now() - this.#lastSave >= 1000) this.save().catch(() => undefined);
  }

  /** Writes the last state (a stopped or failed download resumes from it). */
  async flush(): Promise<void> {
    if (this.#enabled) await this.save().catch(() => undefined);
    await this.#writing.catch(() => undefined);
  }

  /** Drops the record once the file is whole. */
  static async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

export const removeProgressRecord = ProgressWriter.remove;
