/**
 * The small files beside the weights: JSON configs, the README's front matter and first
 * paragraph, and `metadata.json` (the seed's custom fields, which override what was derived).
 * Each read is bounded and counted; a bad file is a warning, not a failed model.
 * `metadata.json` is mapped onto registry fields by `metadata-file.ts`.
 */
import { fstatSync, readSync } from 'node:fs';
import { closeAfterReading, openForReading } from '../formats/bounded-reader.js';
import { firstParagraph, readFrontMatter } from '../formats/front-matter.js';

/** Bytes read by the side-file readers of one model. */
export interface ReadMeter {
  bytes: number;
  warn(path: string, reason: string): void;
}

/**
 * Side files are mostly a few hundred bytes: the first read goes into this buffer, and only a
 * file that fills it is stat-ed for its size. A scan still `fstat`s each file once, when it is
 * closed (`closeAfterReading`, to see it did not change); a stat up front would be a second one.
 */
const FIRST_READ = 16 * 1024;
const firstRead = Buffer.allocUnsafe(FIRST_READ);

/** The first `maxBytes` of a file (synchronous, like every header read of a scan: see BoundedReader). */
function readHead(path: string, maxBytes: number, meter: ReadMeter): { text: string; whole: boolean } | undefined {
  let fd: number;
  try {
    fd = openForReading(path);
  } catch (error) {
    meter.warn(path, `cannot open (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  }
  try {
    const want = Math.min(FIRST_READ, maxBytes);
    const first = readSync(fd, firstRead, 0, want, 0);
    // Fewer bytes than asked: that was the whole file.
    if (first < want) {
      meter.bytes += first;
      return { text: firstRead.toString('utf8', 0, first), whole: true };
    }
    const { size } = fstatSync(fd);
    const length = Math.max(first, Math.min(size, maxBytes));
    const buf = Buffer.allocUnsafe(length);
    firstRead.copy(buf, 0, 0, first);
    const bytesRead = first + (length > first ? readSync(fd, buf, first, length - first, first) : 0);
    meter.bytes += bytesRead;
    return { text: buf.subarray(0, bytesRead).toString('utf8'), whole: size <= maxBytes };
  } catch (error) {
    meter.warn(path, `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    return undefined;
  } finally {
    closeAfterReading(fd, path);
  }
}

/** A JSON object file, or undefined (with a warning) when it is too large or not a JSON object. */
export function readJsonFile(path: string, meter: ReadMeter, maxBytes = 4 * 2 ** 20): Record<string, unknown> | undefined {
  const head = readHead(path, maxBytes, meter);
  if (!head) return undefined;
  if (!head.whole) {
    meter.warn(path, `larger than ${maxBytes} bytes; not read`);
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(head.text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    meter.warn(path, 'not a JSON object; ignored');
  } catch (error) {
    meter.warn(path, `not valid JSON (${(error as Error).message}); ignored`);
  }
  return undefined;
}

export interface ReadmeFacts {
  frontMatter: Record<string, unknown>;
  /** First paragraph of prose after the front matter and headings. */
  summary?: string;
}

/** The README's YAML front matter and first paragraph (from its first 64 KiB). */
export function readReadme(path: string, meter: ReadMeter): ReadmeFacts | undefined {
  const head = readHead(path, 64 * 1024, meter);
  if (!head) return undefined;
  const { data: frontMatter, body, warning } = readFrontMatter(head.text);
  if (warning) meter.warn(path, `README ${warning}; ignored`);
  const summary = firstParagraph(body);
  return summary ? { frontMatter, summary } : { frontMatter };
}
