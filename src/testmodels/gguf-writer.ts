/**
 * A small GGUF v3 writer: header, typed key/value metadata, tensor infos and aligned tensor data,
 * as llama.cpp's gguf.c reads them (little-endian throughout).
 *
 * Tensors are produced one at a time by a callback and streamed to disk, so a model of several
 * hundred MB needs only its largest tensor in memory.
 */
import { open } from 'node:fs/promises';
import { ModelManagerError } from '../errors.js';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const GGUF_VERSION = 3;
const DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4; // GGML_MAX_DIMS

/** The scalar value types of GGUF metadata, with their wire ids. */
const VALUE_TYPE_IDS = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8,
  uint64: 10, int64: 11, float64: 12,
} as const satisfies Record<string, number>;
const ARRAY_TYPE_ID = 9;

interface ScalarValues {
  uint8: number; int8: number; uint16: number; int16: number; uint32: number; int32: number; float32: number;
  bool: boolean; string: string; uint64: number | bigint; int64: number | bigint; float64: number;
}
type ScalarType = keyof ScalarValues;

/** One metadata value: a typed scalar, or an array of one scalar type. */
export type GgufValue =
  | { [K in ScalarType]: { type: K; value: ScalarValues[K] } }[ScalarType]
  | { [K in ScalarType]: { type: 'array'; itemType: K; value: readonly ScalarValues[K][] } }[ScalarType];

/** Tensor element types this writer can encode (ggml_type ids). */
export const GGML_TYPES = { F32: 0, F16: 1 } as const satisfies Record<string, number>;
export type GgmlType = keyof typeof GGML_TYPES;
const BYTES_PER_ELEMENT: Record<GgmlType, number> = { F32: 4, F16: 2 };

export interface GgufTensorSpec {
  name: string;
  /** Dimensions in ggml order: the fastest-varying (row length) first. */
  shape: readonly number[];
  type: GgmlType;
  /** Writes the tensor's values (row-major in ggml order) into `out`. */
  fill(out: Float32Array): void;
}

export interface GgufFileSpec {
  metadata: Readonly<Record<string, GgufValue>>;
  tensors: readonly GgufTensorSpec[];
}

/** Collects little-endian bytes of the header into one growing buffer. */
class ByteSink {
  private buffer = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + n));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
  u32(v: number): void { this.reserve(4); this.buffer.writeUInt32LE(v, this.length); this.length += 4; }
  u64(v: number | bigint): void { this.reserve(8); this.buffer.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  string(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.u64(bytes.length);
    this.reserve(bytes.length);
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
  }
  scalar(type: ScalarType, value: ScalarValues[ScalarType]): void {
    const widths: Record<Exclude<ScalarType, 'string'>, number> = {
      uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1, uint64: 8, int64: 8, float64: 8,
    };
    if (type === 'string') return this.string(String(value));
    this.reserve(widths[type]);
    const b = this.buffer;
    const at = this.length;
    switch (type) {
      case 'uint8': b.writeUInt8(Number(value), at); break;
      case 'int8': b.writeInt8(Number(value), at); break;
      case 'uint16': b.writeUInt16LE(Number(value), at); break;
      case 'int16': b.writeInt16LE(Number(value), at); break;
      case 'uint32': b.writeUInt32LE(Number(value), at); break;
      case 'int32': b.writeInt32LE(Number(value), at); break;
      case 'float32': b.writeFloatLE(Number(value), at); break;
      case 'bool': b.writeUInt8(value ? 1 : 0, at); break;
      case 'uint64': b.writeBigUInt64LE(BigInt(value), at); break;
      case 'int64': b.writeBigInt64LE(BigInt(value), at); break;
      case 'float64': b.writeDoubleLE(Number(value), at); break;
    }
    this.length += widths[type];
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad);
    this.buffer.fill(0, this.length, this.length + pad);
    this.length += pad;
  }
  bytes(): Buffer { return this.buffer.subarray(0, this.length); }
}

const alignUp = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

/** Element count of a tensor shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Encodes the header: magic, version, counts, metadata and tensor infos, padded to the alignment. */
function encodeHeader(spec: GgufFileSpec, alignment: number): { header: Buffer; dataBytes: number[] } {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(spec.tensors.length);
  sink.u64(Object.keys(spec.metadata).length);
  for (const [key, value] of Object.entries(spec.metadata)) {
    sink.string(key);
    if (value.type === 'array') {
      sink.u32(ARRAY_TYPE_ID);
      sink.u32(VALUE_TYPE_IDS[value.itemType]);
      sink.u64(value.value.length);
      for (const item of value.value) sink.scalar(value.itemType, item);
    } else {
      sink.u32(VALUE_TYPE_IDS[value.type]);
      sink.scalar(value.type, value.value);
    }
  }
  const dataBytes: number[] = [];
  let offset = 0;
  for (const tensor of spec.tensors) {
    sink.string(tensor.name);
    sink.u32(tensor.shape.length);
    for (const dim of tensor.shape) sink.u64(dim);
    sink.u32(GGML_TYPES[tensor.type]);
    sink.u64(offset);
    const bytes = elementCount(tensor.shape) * BYTES_PER_ELEMENT[tensor.type];
    dataBytes.push(bytes);
    offset += alignUp(bytes, alignment);
  }
  sink.padTo(alignment);
  return { header: sink.bytes(), dataBytes };
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** Rounds a float32 to the nearest float16 bit pattern (ties to even; overflow to infinity). */
export function toFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mantissa >>> 13;
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) { m = 0; e++; if (e >= 0x1f) return sign | 0x7c00; }
  }
  return sign | (e << 10) | m;
}

function encodeTensor(values: Float32Array, type: GgmlType): Buffer {
  if (type === 'F32') return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length); // platform order: every Node target is little-endian
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]!);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Writes a GGUF v3 file. Returns the file's size in bytes.
 * The `general.alignment` metadata value is honoured when present (it must be a power of two).
 */
export async function writeGgufFile(path: string, spec: GgufFileSpec): Promise<number> {
  const declared = spec.metadata['general.alignment'];
  if (declared !== undefined && declared.type !== 'uint32') {
    throw new ModelManagerError('INVALID_ARGUMENT', `general.alignment must be a uint32 (llama.cpp reads it as one), got ${declared.type}`);
  }
  const alignment = declared?.value ?? DEFAULT_ALIGNMENT;
  const names = new Set<string>();
  for (const { name, shape } of spec.tensors) {
    if (names.has(name)) throw new ModelManagerError('INVALID_ARGUMENT', `tensor "${name}" appears twice; GGUF tensor names are unique`);
    names.add(name);
    if (shape.length < 1 || shape.length > MAX_DIMS || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ModelManagerError('INVALID_ARGUMENT', `tensor "${name}" has shape [${shape.join(', ')}]: use 1 to ${MAX_DIMS} positive whole dimensions`);
    }
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new ModelManagerError('INVALID_ARGUMENT', `GGUF alignment must be a power of two, got ${alignment}`);
  }
  const { header, dataBytes } = encodeHeader(spec, alignment);
  const file = await open(path, 'w');
  try {
    let position = 0;
    const write = async (bytes: Buffer) => {
      await file.write(bytes, 0, bytes.length, position);
      position += bytes.length;
    };
    await write(header);
    for (const [i, tensor] of spec.tensors.entries()) {
      const values = new Float32Array(elementCount(tensor.shape));
      tensor.fill(values);
      await write(encodeTensor(values, tensor.type));
      const pad = alignUp(dataBytes[i]!, alignment) - dataBytes[i]!;
      if (pad > 0) await write(Buffer.alloc(pad));
    }
    return position;
  } finally {
    await file.close();
  }
}
