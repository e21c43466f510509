/**
 * Which byte ranges of a partial file are on disk. A file fetched in one stream is a prefix of
 * the file, as huggingface_hub leaves it (it resumes from the file's size). A file fetched in
 * ranges has holes, so before the first byte past the prefix is written, the ranges on disk are
 * recorded beside the blob's lock (`.locks/models--org--name/<etag>.ranges.json`), and kept
 * current while the download runs; a later pull fetches only what is missing.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';

export type Interval = [start: number, end: number];

/** A range being fetched: bytes [start, pos) are on disk; `end` shrinks when another connection takes its second half. */
export class Segment {
  pos: number;
  /** Bytes received (on disk or about to be written): `pos` plus what waits in memory. */
  received: number;
  constructor(
    readonly start: number,
    public end: number,
  ) {
    this.pos = start;
    this.received = start;
  }
}

/** Sorted, merged intervals. */
export function merged(intervals: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [s, e] of [...intervals].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** The intervals of [0, size) not in `done`. */
export function missing(done: Interval[], size: number): Interval[] {
  const out: Interval[] = [];
  let at = 0;
  for (const [s, e] of done) {
    if (s > at) out.push([at, s]);
    at = Math.max(at, e);
  }
  if (at < size) out.push([at, size]);
  return out;
}

interface RecordFile {
  size: number;
  done: Interval[];
}

/** The ranges already on disk: the recorded ones, else (a file left by one stream, or by huggingface_hub) its prefix. */
export async function rangesOnDisk(file: string, recordFile: string, size: number): Promise<Interval[]> {
  const onDisk = (await stat(file).catch(() => undefined))?.size;
  if (onDisk === undefined) return [];
  const record = await readFile(recordFile, 'utf8').then((t) => JSON.parse(t) as RecordFile, () => undefined);
  if (record && record.size === size && Array.isArray(record.done)) {
    return merged(record.done.filter((r) => Array.isArray(r) && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1])).map(([s, e]) => [Math.max(0, s), Math.min(e, onDisk, size)]));
  }
  return onDisk <= size ? merged([[0, onDisk]]) : [];
}

/** Keeps the record in step with the ranges on disk (at most once a second while bytes arrive). */
export class RangeRecord {
  readonly #segments = new Set<Segment>();
  #writing: Promise<void> = Promise.resolve();
  #lastSave = 0;
  #enabled = false;

  constructor(
    readonly path: string,
    readonly size: number,
    readonly done: Interval[],
  ) {}

  /** Follows a segment until `finished`. */
  track(segment: Segment): void {
    this.#segments.add(segment);
  }

  /** What a segment wrote stays recorded, whether it completed or stopped. */
  finished(segment: Segment): void {
    this.#segments.delete(segment);
    this.done.push([segment.start, segment.pos]);
  }

  /** All ranges on disk now. */
  ranges(): Interval[] {
    return merged([...this.done, ...[...this.#segments].map((s): Interval => [s.start, s.pos])]);
  }

  /** Records the ranges now; from then on the record is kept current. */
  save(): Promise<void> {
    this.#enabled = true;
    this.#lastSave = Date.now();
    const record = JSON.stringify({ size: this.size, done: this.ranges() } satisfies RecordFile);
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
}

/** Drops the record once the file is whole (or thrown away). */
export async function removeRangeRecord(path: string): Promise<void> {
  await rm(path, { force: true });
}
