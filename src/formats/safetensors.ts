/**
 * safetensors header reader: the 8-byte little-endian length, then a JSON header naming every
 * tensor's dtype, shape and byte range. Only the header is read, never the weights, and it is
 * checked against the file's size so a lying or truncated file is refused with a reason.
 */
import { ModelManagerError } from '../errors.js';

/**
 * Headers longer than this are refused unread: the limit huggingface_hub and huggingface.js put
 * on the headers they parse (the safetensors crate allows 100 MB). A real header is at most a few
 * MB (a 70B model's shard names a few hundred tensors in ~90 KB).
 */
export const MAX_SAFETENSORS_HEADER_BYTES = 25_000_000;
/**
 * Most tensors one file may name, checked before a header is parsed: parsing costs ~9 µs and
 * ~1 KB of memory a tensor, so this bounds what a crafted header can cost (~2 s, ~200 MB). The
 * largest MoE checkpoints name under 100,000 tensors across all their shards.
 */
export const MAX_TENSORS = 200_000;
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

/** What a header says of a file's weights, without the tensors one by one. */
export interface SafetensorsCounts {
  path: string;
  fileSize: number;
  headerBytes: number;
  /** Sum over tensors of the product of their shapes. */
  parameterCount: number;
  /** Parameters per dtype, e.g. `{BF16: 7241732096}`. */
  parametersByDtype: Record<string, number>;
  /** Bytes of tensor data the header declares. */
  dataBytes: number;
}

export interface SafetensorsHeader extends SafetensorsCounts {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
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
  // Names and dtypes come from the file: in Maps, `__proto__` or `constructor` is a key like any other.
  const tensors = new Map<string, SafetensorsTensor>();
  const parametersByDtype = new Map<string, number>();
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
    const width = Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype) ? SAFETENSORS_DTYPE_BYTES[dtype] : undefined;
    if (width !== undefined && Math.ceil(count * width) !== (end as number) - (start as number)) {
      throw invalid(path, `tensor "${name}" declares ${count} ${dtype} values but ${(end as number) - (start as number)} bytes`);
    }
    tensors.set(name, { dtype, shape: shape as number[], dataOffsets: [start as number, end as number] });
    parameterCount += count;
    parametersByDtype.set(dtype, (parametersByDtype.get(dtype) ?? 0) + count);
    dataBytes += (end as number) - (start as number);
  }
  // fromEntries defines own properties: a `__proto__` name stays a name.
  return { path, fileSize, headerBytes, tensors: Object.fromEntries(tensors), metadata, parameterCount, parametersByDtype: Object.fromEntries(parametersByDtype), dataBytes };
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
