/**
 * Reading safetensors headers from disk: one file (the 8-byte length, then the JSON header,
 * never the weights), or a model's shard set through its `*.safetensors.index.json`.
 *
 * Reads are synchronous bounded preads (see BoundedReader), like every header read of a scan;
 * the async functions are for callers that read a handful of files. Canonical headers (what the
 * safetensors library writes) are counted by `summarizeCanonicalHeader` without building an
 * object per tensor; anything else, or any doubt, goes to the exact JSON parser.
 */
import { fstatSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { ModelManagerError } from '../errors.js';
import { BoundedReader, closeAfterReading, openForReading } from './bounded-reader.js';
import { modelFolder, pathInside, realPath, realPathWithin } from './confine.js';
import { summarizeCanonicalHeader } from './safetensors-canonical.js';
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_TENSORS, parseSafetensorsHeaderJson, type SafetensorsCounts, type SafetensorsHeader } from './safetensors.js';

/** Largest `*.safetensors.index.json` read (DeepSeek-V3's, naming ~90,000 tensors, is ~9 MB). */
export const MAX_SAFETENSORS_INDEX_BYTES = 64 * 2 ** 20;

const OPEN_BRACE = 0x7b;

/** The header's JSON bytes (a view valid while `r` is open). @throws INVALID_FILE */
function headerBytesOf(r: BoundedReader, maxHeaderBytes: number): Buffer {
  if (r.size < 8) throw r.invalid(`the file has ${r.size} bytes, fewer than the 8-byte header length`);
  // The first read takes one page; the second exactly the rest of the header, not into the weights.
  r.readAheadEnd = 8;
  const length = r.bytes(8).readBigUInt64LE(0);
  if (length > BigInt(maxHeaderBytes)) throw r.invalid(`header length ${length} exceeds the ${maxHeaderBytes}-byte limit`);
  const headerBytes = Number(length);
  if (8 + headerBytes > r.size) throw r.invalid(`header length ${headerBytes} runs past the end of the ${r.size}-byte file`);
  r.readAheadEnd = 8 + headerBytes;
  return r.bytes(headerBytes);
}

/**
 * The header parsed by the exact parser. Every tensor is a JSON object of its own, so a header
 * with more `{` than MAX_TENSORS + 1 is refused before JSON.parse builds them all.
 */
function parseExact(r: BoundedReader, header: Buffer): SafetensorsHeader {
  let braces = 0;
  for (let at = header.indexOf(OPEN_BRACE); at >= 0; at = header.indexOf(OPEN_BRACE, at + 1)) {
    if (++braces > MAX_TENSORS + 1) throw r.invalid(`more than ${MAX_TENSORS} tensors`);
  }
  let json: unknown;
  try {
    json = JSON.parse(header.toString('utf8'));
  } catch (error) {
    throw r.invalid(`the header is not JSON (${(error as Error).message})`);
  }
  return parseSafetensorsHeaderJson(r.path, json, r.size, header.length);
}

function open(path: string): BoundedReader {
  return BoundedReader.open(path, { maxBytes: MAX_SAFETENSORS_HEADER_BYTES + 8, initialChunk: 4096, kind: 'safetensors' });
}

/**
 * One file's parameter counts, and the bytes its read took (a scan's fast path: no tensor details).
 * @throws INVALID_FILE (with the reason), FILE_NOT_FOUND
 */
export function readSafetensorsCounts(path: string): SafetensorsCounts & { bytesRead: number } {
  using r = open(path);
  const header = headerBytesOf(r, MAX_SAFETENSORS_HEADER_BYTES);
  const fast = summarizeCanonicalHeader(header, r.size - 8 - header.length);
  if (fast) return { path, fileSize: r.size, headerBytes: header.length, ...fast, bytesRead: r.bytesRead };
  const { tensors: _tensors, metadata: _metadata, ...counts } = parseExact(r, header);
  return { ...counts, bytesRead: r.bytesRead };
}

/**
 * One file's header, every tensor included (at most `maxHeaderBytes` + 8 bytes of the file are read).
 * @throws ModelManagerError INVALID_FILE (with the reason), FILE_NOT_FOUND
 */
export function readSafetensorsHeaderSync(path: string, { maxHeaderBytes = MAX_SAFETENSORS_HEADER_BYTES } = {}): SafetensorsHeader {
  using r = open(path);
  return parseExact(r, headerBytesOf(r, Math.min(maxHeaderBytes, MAX_SAFETENSORS_HEADER_BYTES)));
}

/** `readSafetensorsHeaderSync`, as a promise. */
export async function readSafetensorsHeader(path: string, options: { maxHeaderBytes?: number } = {}): Promise<SafetensorsHeader> {
  return readSafetensorsHeaderSync(path, options);
}

export interface ShardOptions {
  /**
   * The folder the shards must really lie in (symlinks resolved). Defaults to the index's own
   * folder, or for an index in an HF cache snapshot its repo folder (the snapshot's files are
   * links into the repo's `blobs/`).
   */
  within?: string;
}

function indexError(indexPath: string, reason: string, details: Record<string, unknown> = {}, cause?: unknown): ModelManagerError {
  return new ModelManagerError('INVALID_FILE', `${indexPath}: not a readable safetensors index: ${reason}`, { details: { path: indexPath, reason, ...details }, ...(cause === undefined ? {} : { cause }) });
}

/**
 * The shard files a `*.safetensors.index.json` names, sorted. Every name must stay inside the
 * index's folder and really lead inside `within`: a name that climbs out or a link that leads
 * elsewhere is refused, never opened. A shard that is not there is listed in `missing`.
 * @throws INVALID_FILE for an unreadable index or a shard outside the model's folder
 */
export function safetensorsIndexShards(indexPath: string, { within }: ShardOptions = {}): { shards: string[]; missing: string[]; bytesRead: number } {
  let text: string;
  let fd: number;
  try {
    fd = openForReading(indexPath);
  } catch (error) {
    throw new ModelManagerError('FILE_NOT_FOUND', `cannot open ${indexPath}: ${(error as Error).message}`, { details: { path: indexPath }, cause: error });
  }
  try {
    const { size } = fstatSync(fd);
    if (size > MAX_SAFETENSORS_INDEX_BYTES) throw indexError(indexPath, `it has ${size} bytes, over the ${MAX_SAFETENSORS_INDEX_BYTES}-byte limit`);
    const buf = Buffer.allocUnsafe(size);
    text = buf.toString('utf8', 0, readSync(fd, buf, 0, size, 0));
  } finally {
    closeAfterReading(fd, indexPath);
  }
  let map: unknown;
  try {
    map = (JSON.parse(text) as { weight_map?: unknown } | null)?.weight_map;
  } catch (error) {
    throw indexError(indexPath, (error as Error).message, {}, error);
  }
  const names = map && typeof map === 'object' ? [...new Set(Object.values(map))] : [];
  if (names.length === 0) throw indexError(indexPath, 'the index names no shard files');
  const dir = dirname(indexPath);
  const folder = within ?? modelFolder(dir, false);
  const realWithin = realPath(folder) ?? folder;
  const shards: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    if (typeof name !== 'string') throw indexError(indexPath, 'weight_map values must be file names');
    const shard = pathInside(dir, name);
    const real = shard === undefined ? 'outside' : realPathWithin(shard, realWithin);
    if (shard === undefined || real === 'outside') {
      throw indexError(indexPath, `it names a shard outside the model's folder (${JSON.stringify(name.slice(0, 200))}); nothing was read from it`, { shard: name.slice(0, 200) });
    }
    shards.push(shard);
    if (real === 'missing') missing.push(shard);
  }
  return { shards: shards.sort(), missing: missing.sort(), bytesRead: Buffer.byteLength(text) };
}

/** The shards of an index, or the error naming the missing ones. */
function presentShards(indexPath: string, options: ShardOptions): { shards: string[]; bytesRead: number } {
  const { shards, missing, bytesRead } = safetensorsIndexShards(indexPath, options);
  if (missing.length > 0) {
    throw new ModelManagerError('FILE_NOT_FOUND', `${indexPath}: ${missing.length} of ${shards.length} shards are missing (first: ${missing[0]})`, { details: { path: indexPath, missing } });
  }
  return { shards, bytesRead };
}

/**
 * The parameter count of a shard set, read through its index (the scan's path: counts only).
 * @returns the count and the bytes read, the index included
 * @throws INVALID_FILE, FILE_NOT_FOUND naming the missing shards
 */
export function readSafetensorsIndexCounts(indexPath: string, options: ShardOptions = {}): { parameterCount: number; bytesRead: number } {
  const { shards, bytesRead } = presentShards(indexPath, options);
  let parameterCount = 0;
  let read = bytesRead;
  for (const shard of shards) {
    const h = readSafetensorsCounts(shard);
    parameterCount += h.parameterCount;
    read += h.bytesRead;
  }
  return { parameterCount, bytesRead: read };
}

export interface SafetensorsSummary {
  files: SafetensorsHeader[];
  parameterCount: number;
  parametersByDtype: Record<string, number>;
  dataBytes: number;
}

/**
 * Reads the headers of a model's weights: a sharded checkpoint through its
 * `*.safetensors.index.json`, else the single file. Refuses an index whose shards are missing
 * or lie outside the model's folder.
 */
export async function readSafetensorsModel(fileOrIndex: string, options: ShardOptions = {}): Promise<SafetensorsSummary> {
  const shards = fileOrIndex.endsWith('.index.json') ? presentShards(fileOrIndex, options).shards : [fileOrIndex];
  const files = shards.map((shard) => readSafetensorsHeaderSync(shard));
  const parametersByDtype = new Map<string, number>();
  for (const f of files) for (const [d, n] of Object.entries(f.parametersByDtype)) parametersByDtype.set(d, (parametersByDtype.get(d) ?? 0) + n);
  return {
    files,
    parameterCount: files.reduce((a, f) => a + f.parameterCount, 0),
    parametersByDtype: Object.fromEntries(parametersByDtype),
    dataBytes: files.reduce((a, f) => a + f.dataBytes, 0),
  };
}
