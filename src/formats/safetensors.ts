/**
 * safetensors header reader: the 8-byte little-endian length, then a JSON header naming every
 * tensor's dtype, shape and byte range. Only the header is read, never the weights, and it is
 * checked against the file's size so a lying or truncated file is refused with a reason.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelManagerError } from '../errors.js';

/** The format allows headers up to 100 MB; anything larger is refused unread. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;
export const MAX_TENSORS = 1_000_000;
/** A shard of a set (`model-00001-of-00004.safetensors`, as a name or a path): the set's name, the shard's number, how many. */
export const SAFETENSORS_SHARD = /^(.+)-(\d{5})-of-(\d{5})\.safetensors$/i;

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8, F4: 0.5, F6_E2M3: 0.75, F6_E3M2: 0.75,
};

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  headerBytes: number;
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
  /** Sum over tensors of the product of their shapes. */
  parameterCount: number;
  /** Parameters per dtype, e.g. `{BF16: 7241732096}`. */
  parametersByDtype: Record<string, number>;
  /** Bytes of tensor data the header declares. */
  dataBytes: number;
}

function invalid(path: string, reason: string, details: Record<string, unknown> = {}): ModelManagerError {
  return new ModelManagerError('INVALID_FILE', `${path}: not a valid safetensors file: ${reason}`, { details: { path, reason, ...details } });
}

/** Checks and summarises a parsed header object. */
export function parseSafetensorsHeaderJson(path: string, json: unknown, fileSize: number, headerBytes: number): SafetensorsHeader {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw invalid(path, 'the header is not a JSON object');
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length > MAX_TENSORS + 1) throw invalid(path, `more than ${MAX_TENSORS} tensors`);
  const dataSize = fileSize - 8 - headerBytes;
  const tensors: Record<string, SafetensorsTensor> = {};
  const parametersByDtype: Record<string, number> = {};
  let metadata: Record<string, string> = {};
  let parameterCount = 0;
  let dataBytes = 0;
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      if (value && typeof value === 'object') metadata = value as Record<string, string>;
      continue;
    }
    const t = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    const dtype = t?.dtype;
    const shape = t?.shape;
    const offsets = t?.data_offsets;
    if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw invalid(path, `tensor "${name}" lacks dtype, shape or data_offsets`);
    }
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw invalid(path, `tensor "${name}" has a bad shape`);
    const [start, end] = offsets as [unknown, unknown];
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || (start as number) < 0 || (end as number) < (start as number)) {
      throw invalid(path, `tensor "${name}" has bad data_offsets`);
    }
    if ((end as number) > dataSize) {
      throw invalid(path, `tensor "${name}" ends at byte ${end as number} but the file holds only ${Math.max(0, dataSize)} bytes of data (truncated or lying header)`, {
        tensor: name,
      });
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const width = SAFETENSORS_DTYPE_BYTES[dtype];
    if (width !== undefined && Math.ceil(count * width) !== (end as number) - (start as number)) {
      throw invalid(path, `tensor "${name}" declares ${count} ${dtype} values but ${(end as number) - (start as number)} bytes`);
    }
    tensors[name] = { dtype, shape: shape as number[], dataOffsets: [start as number, end as number] };
    parameterCount += count;
    parametersByDtype[dtype] = (parametersByDtype[dtype] ?? 0) + count;
    dataBytes += (end as number) - (start as number);
  }
  return { path, fileSize, headerBytes, tensors, metadata, parameterCount, parametersByDtype, dataBytes };
}

/**
 * Reads one safetensors file's header (at most `maxHeaderBytes` + 8 bytes of the file).
 * @throws ModelManagerError INVALID_FILE (with the reason), FILE_NOT_FOUND
 */
export async function readSafetensorsHeader(path: string, { maxHeaderBytes = MAX_SAFETENSORS_HEADER_BYTES } = {}): Promise<SafetensorsHeader> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ModelManagerError('FILE_NOT_FOUND', `cannot open ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
  }
  try {
    const { size } = await handle.stat();
    if (size < 8) throw invalid(path, `the file has ${size} bytes, fewer than the 8-byte header length`);
    const lengthBuf = Buffer.alloc(8);
    await handle.read(lengthBuf, 0, 8, 0);
    const length = lengthBuf.readBigUInt64LE(0);
    if (length > BigInt(maxHeaderBytes)) throw invalid(path, `header length ${length} exceeds the ${maxHeaderBytes}-byte limit`);
    const headerBytes = Number(length);
    if (8 + headerBytes > size) throw invalid(path, `header length ${headerBytes} runs past the end of the ${size}-byte file`);
    const buf = Buffer.alloc(headerBytes);
    const { bytesRead } = await handle.read(buf, 0, headerBytes, 8);
    if (bytesRead !== headerBytes) throw invalid(path, 'the file ended while reading the header');
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch (error) {
      throw invalid(path, `the header is not JSON (${(error as Error).message})`);
    }
    return parseSafetensorsHeaderJson(path, json, size, headerBytes);
  } finally {
    await handle.close();
  }
}

export interface SafetensorsSummary {
  files: SafetensorsHeader[];
  parameterCount: number;
  parametersByDtype: Record<string, number>;
  dataBytes: number;
}

/**
 * Reads the headers of a model's weights: a sharded checkpoint through its
 * `*.safetensors.index.json`, else the single file. Refuses an index whose shards are missing.
 */
export async function readSafetensorsModel(fileOrIndex: string): Promise<SafetensorsSummary> {
  let shards = [fileOrIndex];
  if (fileOrIndex.endsWith('.index.json')) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(await readFile(fileOrIndex, 'utf8')) as typeof index;
    } catch (error) {
      throw new ModelManagerError('INVALID_FILE', `${fileOrIndex}: not a readable safetensors index: ${(error as Error).message}`, {
        details: { path: fileOrIndex },
        cause: error,
      });
    }
    const names = [...new Set(Object.values(index.weight_map ?? {}))].sort();
    if (names.length === 0) throw invalid(fileOrIndex, 'the index names no shard files');
    shards = names.map((n) => join(dirname(fileOrIndex), n));
    const missing: string[] = [];
    for (const shard of shards) await stat(shard).catch(() => missing.push(shard));
    if (missing.length > 0) {
      throw new ModelManagerError('FILE_NOT_FOUND', `${fileOrIndex}: ${missing.length} of ${shards.length} shards are missing (first: ${missing[0]})`, {
        details: { path: fileOrIndex, missing },
      });
    }
  }
  const files: SafetensorsHeader[] = [];
  for (const shard of shards) files.push(await readSafetensorsHeader(shard));
  const parametersByDtype: Record<string, number> = {};
  for (const f of files) for (const [d, n] of Object.entries(f.parametersByDtype)) parametersByDtype[d] = (parametersByDtype[d] ?? 0) + n;
  return {
    files,
    parameterCount: files.reduce((a, f) => a + f.parameterCount, 0),
    parametersByDtype,
    dataBytes: files.reduce((a, f) => a + f.dataBytes, 0),
  };
}

/**
 * Encodes the 8-byte length and JSON header for the given tensors; the data that follows is
 * `dataBytes` long. Write the header, then extend the file to the full size (sparse) for big fakes.
 */
export function encodeSafetensorsHeader(
  tensors: Record<string, { dtype: string; shape: number[] }>,
  metadata?: Record<string, string>,
): { header: Buffer; dataBytes: number } {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = Math.ceil(t.shape.reduce((a, b) => a * b, 1) * (SAFETENSORS_DTYPE_BYTES[t.dtype] ?? 4));
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return { header: Buffer.concat([head, Buffer.from(json)]), dataBytes: offset };
}

/** A whole safetensors file with zero-filled tensors (small test models). */
export function encodeSafetensors(tensors: Record<string, { dtype: string; shape: number[] }>, metadata?: Record<string, string>): Buffer {
  const { header, dataBytes } = encodeSafetensorsHeader(tensors, metadata);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}
