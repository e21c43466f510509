/**
 * The small files beside the weights: JSON configs, the README's front matter and first
 * paragraph, and `metadata.json` (the seed's custom fields, which override what was derived).
 * Each read is bounded and counted; a bad file is a warning, not a failed model.
 * `metadata.json` is mapped onto registry fields by `metadata-file.ts`.
 */
import { fstatSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { closeAfterReading, openForReading } from '../formats/bounded-reader.js';

/** The YAML parser, loaded on the first front matter that needs it (most are flat: see `parseFlatFrontMatter`). */
let yaml: typeof import('yaml') | undefined;
const yamlParse = (text: string): unknown => (yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

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

const PLAIN = /^[A-Za-z0-9_./+][A-Za-z0-9_./+ -]*$/;
const YAML_SPECIAL = /^(true|false|yes|no|on|off|null|~|[-+]?(\.?[0-9][0-9._]*([eE][-+]?[0-9]+)?|\.inf|\.nan))$/i;

/**
 * Flat front matter (`key: word`, `key: [a, b]`, `key:` then `- item` lines), the shape of most
 * model cards' metadata, read without the YAML parser (~0.2 ms a README, measured, the second
 * largest cost of a scan). Undefined for anything else, which then goes to YAML.
 */
export function parseFlatFrontMatter(text: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let listKey: string | undefined;
  const plain = (v: string) => PLAIN.test(v) && !YAML_SPECIAL.test(v.trim());
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const item = /^\s*-\s+(.*?)\s*$/.exec(line);
    if (item) {
      if (listKey === undefined || !plain(item[1]!)) return undefined;
      const items = (out[listKey] ??= []) as string[];
      items.push(item[1]!);
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+):(?:[ \t]+(.*?))?\s*$/.exec(line);
    if (!kv) return undefined;
    const [, key, raw] = kv as unknown as [string, string, string | undefined];
    listKey = undefined;
    if (raw === undefined || raw === '') {
      out[key] = null; // `key:` alone is null in YAML, unless `- items` follow
      listKey = key;
    } else if (raw.startsWith('[') && raw.endsWith(']')) {
      const items = raw.slice(1, -1).split(',').map((v) => v.trim()).filter((v) => v !== '');
      if (!items.every(plain)) return undefined;
      out[key] = items;
    } else if (plain(raw)) out[key] = raw;
    else return undefined;
  }
  return out;
}

/** The README's YAML front matter and first paragraph (from its first 64 KiB). */
export function readReadme(path: string, meter: ReadMeter): ReadmeFacts | undefined {
  const head = readHead(path, 64 * 1024, meter);
  if (!head) return undefined;
  let body = head.text.replace(/^\uFEFF/, '');
  let frontMatter: Record<string, unknown> = {};
  const fm = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(body);
  if (fm) {
    try {
      const parsed: unknown = parseFlatFrontMatter(fm[1]!) ?? yamlParse(fm[1]!);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) frontMatter = parsed as Record<string, unknown>;
    } catch (error) {
      meter.warn(path, `README front matter is not valid YAML (${(error as Error).message}); ignored`);
    }
    body = body.slice(fm[0].length);
  }
  const paragraph = body
    .split(/\r?\n\s*\r?\n/)
    .map((p) => p.trim())
    .find((p) => p.length > 0 && !/^(#|<|!\[|\||```|---|\[!\[)/.test(p));
  const summary = paragraph?.replace(/\s+/g, ' ').slice(0, 600);
  return summary ? { frontMatter, summary } : { frontMatter };
}
