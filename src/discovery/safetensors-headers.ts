/**
 * Safetensors headers for discovery: the shared parser (`parseSafetensorsHeaderJson`) over a
 * BoundedReader, so the bytes are counted and read the way every other header is.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelManagerError } from '../errors.js';
import { BoundedReader, MAX_SAFETENSORS_HEADER_BYTES, parseSafetensorsHeaderJson, type SafetensorsHeader } from '../formats/index.js';
import { summarizeCanonicalHeader } from './safetensors-canonical.js';

/** One file's header, with the bytes its read took. @throws INVALID_FILE, FILE_NOT_FOUND */
export function readSafetensorsFile(path: string): SafetensorsHeader & { bytesRead: number } {
  using r = BoundedReader.open(path, { maxBytes: MAX_SAFETENSORS_HEADER_BYTES + 8, initialChunk: 4096, kind: 'safetensors' });
  if (r.size < 8) throw r.invalid(`the file has ${r.size} bytes, fewer than the 8-byte header length`);
  // The first read takes one page; the second exactly the rest of the header, not into the weights.
  r.readAheadEnd = 8;
  const length = r.bytes(8).readBigUInt64LE(0);
  if (length > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) throw r.invalid(`header length ${length} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  const headerBytes = Number(length);
  if (8 + headerBytes > r.size) throw r.invalid(`header length ${headerBytes} runs past the end of the ${r.size}-byte file`);
  r.readAheadEnd = 8 + headerBytes;
  const header = r.bytes(headerBytes);
  const fast = summarizeCanonicalHeader(header, r.size - 8 - headerBytes);
  if (fast) return { path, fileSize: r.size, headerBytes, tensors: {}, metadata: {}, ...fast, bytesRead: r.bytesRead };
  let json: unknown;
  try {
    json = JSON.parse(header.toString('utf8'));
  } catch (error) {
    throw r.invalid(`the header is not JSON (${(error as Error).message})`);
  }
  return { ...parseSafetensorsHeaderJson(path, json, r.size, headerBytes), bytesRead: r.bytesRead };
}

/**
 * Every shard a `model.safetensors.index.json` names, read; a missing shard is an error naming it.
 * @returns the parameter count and the bytes read (the index included)
 */
export function readSafetensorsIndex(indexPath: string): { parameterCount: number; bytesRead: number } {
  let text: string;
  let index: { weight_map?: Record<string, string> };
  try {
    text = readFileSync(indexPath, 'utf8');
    index = JSON.parse(text) as typeof index;
  } catch (error) {
    throw new ModelManagerError('INVALID_FILE', `${indexPath}: not a readable safetensors index: ${(error as Error).message}`, { details: { path: indexPath }, cause: error });
  }
  const names = [...new Set(Object.values(index.weight_map ?? {}))].sort();
  if (names.length === 0) throw new ModelManagerError('INVALID_FILE', `${indexPath}: the index names no shard files`, { details: { path: indexPath } });
  let parameterCount = 0;
  let bytesRead = Buffer.byteLength(text);
  const missing: string[] = [];
  for (const name of names) {
    const shard = join(dirname(indexPath), name);
    try {
      const h = readSafetensorsFile(shard);
      parameterCount += h.parameterCount;
      bytesRead += h.bytesRead;
    } catch (error) {
      if ((error as { code?: string }).code !== 'FILE_NOT_FOUND') throw error;
      missing.push(shard);
    }
  }
  if (missing.length > 0) {
    throw new ModelManagerError('FILE_NOT_FOUND', `${indexPath}: ${missing.length} of ${names.length} shards are missing (first: ${missing[0]})`, { details: { path: indexPath, missing } });
  }
  return { parameterCount, bytesRead };
}
