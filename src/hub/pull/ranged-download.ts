/**
 * Downloads one file into its `.incomplete` file over several connections, each fetching a byte
 * range (as hf_transfer and Ollama do), streamed to disk in pieces of about a mebibyte so memory
 * stays bounded, and hashed while it downloads (the part complete from byte 0 is read back and
 * hashed as it grows, on a thread of its own).
 *
 * - The file is cut into ranges of at most 32 MiB, taken in order, so the complete prefix (and
 *   its hash) keeps up with the download.
 * - A connection with no range left takes half of the largest range still being fetched: a range
 *   that crawls is split and its rest goes to a fresh connection, so the end of a pull does not
 *   wait on its slowest connection.
 * - A connection that sends nothing for `stallTimeoutMs` is dropped and its range continues on a
 *   new one; a dropped connection resumes from the last byte written, with backoff, until
 *   `retries` attempts in a row brought no byte.
 * - Resume: the ranges already on disk come from the range record (range-record.ts) and are not
 *   fetched again.
 */
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ModelManagerError, isModelManagerError } from '../../errors.js';
import { PrefixHasher, type BlobHashes } from './blob-hash.js';
import { backoffMs, interrupted, isRetryableStatus, networkError, pause, statusError, type HubTarget } from './hub-request.js';
import { getRange } from './range-request.js';
import { RangeRecord, Segment, missing, rangesOnDisk, type Interval } from './range-record.js';

export interface RangedDownloadOptions {
  target: HubTarget;
  url: string;
  /** Headers of every request (the token, for files on the hub's own host). */
  headers: Record<string, string>;
  size: number;
  /** The partial file (`blobs/<etag>.incomplete`). */
  file: string;
  /** Where the ranges on disk are recorded while the partial file has holes. */
  recordFile: string;
  /** Connections at most. */
  connections: number;
  /** No range is split below this many bytes. */
  minSplitBytes: number;
  /** A connection that sends nothing for this long is replaced. */
  stallTimeoutMs: number;
  /** Also compute the git blob id (files not in LFS are named by it). */
  gitOid: boolean;
  /** Bytes that became present on disk: those found on resume first, then as they are written. */
  onBytes(bytes: number): void;
}

/** The largest range one request asks for: ranges taken in order keep the complete prefix growing. */
const MAX_RANGE_BYTES = 32 * 1024 * 1024;
/** Received bytes are written in pieces of this size: larger writes measured more CPU per byte here. */
const WRITE_BYTES = 1024 * 1024;

/** Splits the missing intervals into ranges: about one per connection, within [minBytes, MAX_RANGE_BYTES]. */
function plan(gaps: Interval[], count: number, minBytes: number): Segment[] {
  const total = gaps.reduce((n, [s, e]) => n + e - s, 0);
  const target = Math.min(Math.max(minBytes, Math.ceil(total / count)), Math.max(minBytes, MAX_RANGE_BYTES));
  const segments: Segment[] = [];
  for (const [s, e] of gaps) {
    const pieces = Math.max(1, Math.round((e - s) / target));
    const step = Math.ceil((e - s) / pieces);
    for (let at = s; at < e; at += step) segments.push(new Segment(at, Math.min(e, at + step)));
  }
  return segments;
}

/**
 * Fetches the bytes of `file` that are not on disk yet, and hashes the whole file.
 * @throws ModelManagerError INTERRUPTED (stopped: the partial file and its record stay for a resume),
 * DISK_FULL, AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE (after the retries)
 */
export async function downloadRanges(options: RangedDownloadOptions): Promise<BlobHashes> {
  const { size, file, recordFile, connections, minSplitBytes, onBytes } = options;
  // The first range that fails for good stops the others.
  const stopAll = new AbortController();
  const signal = options.target.signal ? AbortSignal.any([options.target.signal, stopAll.signal]) : stopAll.signal;
  // Every connection listens to it: more than the default ten is expected, not a leak.
  setMaxListeners(0, signal);
  const run = { ...options, target: { ...options.target, signal } };
  const done = await rangesOnDisk(file, recordFile, size);
  const handle = await open(file, existsSync(file) ? 'r+' : 'w+');
  const record = new RangeRecord(recordFile, size, done);
  const hasher = new PrefixHasher(file, size, { gitOid: options.gitOid });
  const prefix = () => {
    const first = record.ranges()[0];
    return first && first[0] === 0 ? first[1] : 0;
  };
  try {
    if ((await handle.stat()).size > size) await handle.truncate(size);
    onBytes(done.reduce((n, [s, e]) => n + e - s, 0));
    hasher.advance(prefix());
    const pending = plan(missing(done, size), connections, minSplitBytes);
    const active = new Set<Segment>();
    const holes = pending.length > 1 || done.length > 1 || (done.length === 1 && done[0]![0] !== 0);
    // Before any hole appears on disk, the record says which bytes are real.
    if (holes) await record.save();
    const takeWork = (): Segment | undefined => {
      const next = pending.shift();
      if (next) return next;
      let largest: Segment | undefined;
      for (const s of active) if (!largest || s.end - s.received > largest.end - largest.received) largest = s;
      if (!largest || largest.end - largest.received < 2 * minSplitBytes) return undefined;
      const mid = largest.received + Math.floor((largest.end - largest.received) / 2);
      const rest = new Segment(mid, largest.end);
      largest.end = mid;
      return rest;
    };
    let failure: unknown;
    const wrote = () => {
      record.saveSoon();
      hasher.advance(prefix());
    };
    const worker = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(WRITE_BYTES);
      for (let segment = takeWork(); segment && failure === undefined; segment = takeWork()) {
        active.add(segment);
        record.track(segment);
        try {
          await fetchSegment(segment, handle, buffer, run, wrote);
        } catch (error) {
          failure ??= error;
          stopAll.abort();
        } finally {
          // What a stopped segment wrote counts too: the record keeps it for the resume.
          record.finished(segment);
          active.delete(segment);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(connections, pending.length)) }, worker));
    if (failure !== undefined) throw failure;
    return await hasher.digest(size);
  } finally {
    await hasher.stop();
    await handle.close();
    await record.flush();
  }
}

/**
 * Fetches one segment, resuming after dropped or stalled connections. Received bytes are copied
 * into `buffer` (the connection's own, reused) and written when it is full: the socket's chunks
 * are then garbage at once, never promoted to the old generation, whose collections cost more
 * CPU than the copy; and each write is one large positional write.
 */
async function fetchSegment(segment: Segment, handle: FileHandle, buffer: Buffer, options: RangedDownloadOptions, wrote: () => void): Promise<void> {
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
    // Bytes [pos, received) wait in `buffer`.
    const flush = async () => {
      const bytes = segment.received - segment.pos;
      if (bytes === 0) return;
      for (let done = 0; done < bytes;) done += (await handle.write(buffer, done, bytes - done, segment.pos + done)).bytesWritten;
      segment.pos += bytes;
      onBytes(bytes);
      wrote();
    };
    let retryAfter: string | undefined;
    let lastError: unknown;
    try {
      const answer = await getRange(url, { ...headers, 'accept-encoding': 'identity', range: `bytes=${segment.pos}-${segment.end - 1}` }, connection.signal);
      const start = Number(/^bytes (\d+)-/.exec(answer.header('content-range') ?? '')?.[1] ?? NaN);
      if (answer.status === 206 && start === segment.pos) {
        for await (const chunk of answer.body as AsyncIterable<Buffer>) {
          lastByteAt = Date.now();
          failures = 0;
          // `end` shrinks when another connection takes the rest: bytes past it are not ours.
          const take = Math.min(chunk.byteLength, segment.end - segment.received);
          for (let at = 0; at < take;) {
            const copied = chunk.copy(buffer, segment.received - segment.pos, at, take);
            at += copied;
            segment.received += copied;
            if (segment.received - segment.pos === buffer.byteLength) await flush();
          }
          if (segment.received >= segment.end) break;
        }
        await flush();
        if (segment.pos >= segment.end) return;
        lastError = new Error('the connection closed before the range was complete');
      } else {
        answer.body.destroy();
        if (answer.status === 200 || answer.status === 206 || answer.status === 416) {
          throw new ModelManagerError('HUB_UNREACHABLE', `${new URL(url).host} did not answer the byte range ${segment.pos}-${segment.end - 1} of a ${size}-byte file (HTTP ${answer.status}); downloads need a server that honours Range requests`, {
            details: { url, status: answer.status },
          });
        }
        if (!isRetryableStatus(answer.status)) throw statusError(target, answer);
        retryAfter = answer.header('retry-after');
        lastError = statusError(target, answer);
      }
    } catch (error) {
      // Bytes received before the connection failed are good: keep them.
      const failed = (await flush().then(() => undefined, (e: unknown) => e)) ?? error;
      if (target.signal?.aborted) throw interrupted();
      if (isModelManagerError(failed)) throw failed;
      if ((failed as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new ModelManagerError('DISK_FULL', `the disk of ${options.file} is full: free some space, then pull again (it resumes)`, { details: { path: options.file }, cause: failed });
      }
      lastError = failed;
    } finally {
      clearInterval(watchdog);
      target.signal?.removeEventListener('abort', stop);
      segment.received = segment.pos;
    }
    failures += 1;
    if (failures > target.retries) throw isModelManagerError(lastError) ? lastError : networkError(target, lastError);
    await pause(backoffMs(failures, target.retryBaseMs, retryAfter), target.signal);
  }
}
