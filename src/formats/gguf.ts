/**
 * GGUF header reader: the key/value metadata and the tensor table, never the weights.
 *
 * @huggingface/gguf's `gguf()` reads local files in 2 MB chunks and keeps every metadata array
 * (a 150k-token vocabulary) in memory; discovery reads thousands of files and promises at most
 * 1 MiB per model, so this reader walks the same format with a BoundedReader instead: arrays of
 * fixed-size values are skipped unread, strings are decoded only for the keys a model card needs,
 * and every count and length is capped. Names and enums come from @huggingface/gguf.
 */
import { basename } from 'node:path';
import { GGMLFileQuantizationType, GGUFValueType, parseGGUFQuantLabel } from '@huggingface/gguf';
import { BoundedReader } from './bounded-reader.js';

export interface GgufLimits {
  /** Most bytes read from the file. Defaults to 64 MiB (a large vocabulary takes a few MiB). */
  maxHeaderBytes?: number;
  /** Longest string value. Defaults to 4 MiB. */
  maxStringBytes?: number;
  /** Longest metadata array. Defaults to 4,000,000. */
  maxArrayLength?: number;
  /** Most tensors. Defaults to 1,000,000. */
  maxTensors?: number;
  /** Most metadata keys. Defaults to 100,000. */
  maxKeys?: number;
}

/** A metadata value; arrays longer than 1024 elements, or of strings, are kept as their length only. */
export type GgufValue = string | number | bigint | boolean | number[] | { arrayLength: number; elementType: string };

export interface GgufTensorInfo {
  name: string;
  shape: number[];
  /** GGMLQuantizationType of the tensor. */
  type: number;
  /** Offset from the start of the tensor data. */
  offset: number;
}

export interface GgufHeader {
  path: string;
  fileSize: number;
  version: number;
  littleEndian: boolean;
  metadata: Record<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Byte where tensor data starts (aligned). */
  tensorDataOffset: number;
  /** Bytes of tensor data the table declares, when every tensor type is known. */
  tensorDataBytes?: number;
  parameterCount: number;
  architecture?: string;
  name?: string;
  contextLength?: number;
  blockCount?: number;
  headCount?: number;
  headCountKv?: number;
  embeddingLength?: number;
  vocabSize?: number;
  chatTemplate?: string;
  /** Quantization name from `general.file_type` (e.g. `Q4_K_M`), else from the file name. */
  quantization?: string;
  /** `split.count` of a sharded model (1 when not split). */
  splitCount: number;
  /** Bytes of the file this read took. */
  bytesRead: number;
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const MAX_KEY_BYTES = 65_536;
const MAX_DIMS = 8;
const KEPT_ARRAY_LENGTH = 1024;

const FIXED_WIDTH: Partial<Record<GGUFValueType, number>> = {
  [GGUFValueType.UINT8]: 1, [GGUFValueType.INT8]: 1, [GGUFValueType.BOOL]: 1, [GGUFValueType.UINT16]: 2, [GGUFValueType.INT16]: 2,
  [GGUFValueType.UINT32]: 4, [GGUFValueType.INT32]: 4, [GGUFValueType.FLOAT32]: 4, [GGUFValueType.UINT64]: 8, [GGUFValueType.INT64]: 8,
  [GGUFValueType.FLOAT64]: 8,
};

/** [elements per block, bytes per block] of ggml tensor types (llama.cpp gguf-py constants). */
const GGML_BLOCK: Record<number, readonly [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 40], 10: [256, 84], 11: [256, 110],
  12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292], 16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18],
  21: [256, 110], 22: [256, 82], 23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17],
};

/** Keys whose string values are decoded; every other string is skipped unread where possible. */
function wantsString(key: string): boolean {
  return key.startsWith('general.') || key.startsWith('split.') || key === 'tokenizer.chat_template' || key === 'tokenizer.ggml.model' || !key.startsWith('tokenizer.');
}

/** Fewest bytes of a metadata entry (key length, empty key, type, a one-byte value), by version (1 has 32-bit lengths). */
const minEntryBytes = (version: number) => (version === 1 ? 4 : 8) + 4 + 1;
/** Fewest bytes of a tensor-table entry (name length, empty name, dimension count, one dimension, type, offset). */
const minTensorBytes = (version: number) => (version === 1 ? 4 + 4 + 4 + 4 + 8 : 8 + 4 + 8 + 4 + 8);

class GgufCursor {
  /** Fewest bytes of header known to follow the current item (the entries and tensors after it). */
  tail = 0;

  constructor(readonly r: BoundedReader, readonly version: number, readonly le: boolean, readonly limits: Required<GgufLimits>) {}

  /**
   * Tells the reader the header goes on for at least `bytes` more, and `tail` after that: its
   * chunks then stop short of the weights (see BoundedReader.readAheadEnd).
   */
  ahead(bytes: number): void {
    this.r.readAheadEnd = this.r.pos + bytes + this.tail;
  }

  u32(): number {
    const b = this.r.bytes(4);
    return this.le ? b.readUInt32LE(0) : b.readUInt32BE(0);
  }

  u64(what: string): number {
    const b = this.r.bytes(8);
    const v = this.le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.r.invalid(`${what} is ${v}, beyond any real model`);
    return Number(v);
  }

  /** A size field: u32 in version 1, u64 after. */
  size(what: string): number {
    return this.version === 1 ? this.u32() : this.u64(what);
  }

  string(what: string, max: number, decode = true): string | undefined {
    const length = this.size(`${what} length`);
    if (length > max) throw this.r.invalid(`${what} is ${length} bytes long, over the ${max}-byte limit`);
    if (!decode) {
      this.r.skip(length);
      return undefined;
    }
    return (this.r.bytes(length)).toString('utf8');
  }

  /** Skips `count` strings (a vocabulary), walking the window without a read call per string. */
  skipStrings(key: string, count: number): void {
    const max = this.limits.maxStringBytes;
    const width = this.version === 1 ? 4 : 8;
    let done = 0;
    while (done < count) {
      const buf = this.r.buffered();
      let off = 0;
      if (this.le && width === 8) {
        // The common case (v2/v3, little-endian), by plain 32-bit reads: a vocabulary is 32k-256k strings.
        const end = buf.length;
        const view = new DataView(buf.buffer, buf.byteOffset, end);
        while (done < count && off + 8 <= end) {
          if (view.getUint32(off + 4, true) !== 0) break;
          const length = view.getUint32(off, true);
          if (length > max || off + 8 + length > end) break;
          off += 8 + length;
          done += 1;
        }
      }
      while (done < count && off + width <= buf.length) {
        const high = width === 8 ? (this.le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off)) : 0;
        const low = this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off + width - 4);
        if (high !== 0 || low > max) throw this.r.invalid(`a string of "${key}" is over the ${max}-byte limit`);
        if (off + width + low > buf.length) break;
        off += width + low;
        done += 1;
      }
      this.r.skip(off);
      // The next string crosses the window's end (or the window is empty): read it the slow way.
      if (done < count) {
        this.ahead((count - done) * width);
        this.string(`element of "${key}"`, max, false);
        done += 1;
      }
    }
  }

  /**
   * The next tensor-table entry when it lies whole in the window (little-endian v2/v3), parsed
   * field by field through the reader: a table has hundreds of entries. Undefined otherwise, and for
   * anything odd, which the field-by-field path then reads and words the error for.
   */
  tensorFromWindow(): GgufTensorInfo | undefined {
    if (!this.le || this.version === 1) return undefined;
    // Offsets into the window itself: no view made per tensor.
    const buf = this.r.window;
    const start = this.r.pos - this.r.windowStart;
    if (start < 0) return undefined;
    const u64 = (at: number) => {
      const high = buf.readUInt32LE(at + 4);
      return high < 0x200000 ? high * 0x100000000 + buf.readUInt32LE(at) : undefined;
    };
    if (buf.length < start + 12) return undefined;
    const nameLength = u64(start);
    if (nameLength === undefined || nameLength > MAX_KEY_BYTES || buf.length < start + 8 + nameLength + 4) return undefined;
    let at = start + 8 + nameLength;
    const dims = buf.readUInt32LE(at);
    at += 4;
    if (dims > MAX_DIMS || buf.length < at + 8 * dims + 12) return undefined;
    const shape: number[] = [];
    for (let d = 0; d < dims; d++, at += 8) {
      const dim = u64(at);
      if (dim === undefined) return undefined;
      shape.push(dim);
    }
    const type = buf.readUInt32LE(at);
    const offset = u64(at + 4);
    if (offset === undefined) return undefined;
    const name = buf.toString('utf8', start + 8, start + 8 + nameLength);
    this.r.skip(at + 12 - start);
    return { name, shape, type, offset };
  }

  scalar(type: GGUFValueType): number | bigint | boolean {
    const width = FIXED_WIDTH[type]!;
    const b = this.r.bytes(width);
    const le = this.le;
    switch (type) {
      case GGUFValueType.UINT8: return b.readUInt8(0);
      case GGUFValueType.INT8: return b.readInt8(0);
      case GGUFValueType.BOOL: return b.readUInt8(0) !== 0;
      case GGUFValueType.UINT16: return le ? b.readUInt16LE(0) : b.readUInt16BE(0);
      case GGUFValueType.INT16: return le ? b.readInt16LE(0) : b.readInt16BE(0);
      case GGUFValueType.UINT32: return le ? b.readUInt32LE(0) : b.readUInt32BE(0);
      case GGUFValueType.INT32: return le ? b.readInt32LE(0) : b.readInt32BE(0);
      case GGUFValueType.FLOAT32: return le ? b.readFloatLE(0) : b.readFloatBE(0);
      case GGUFValueType.FLOAT64: return le ? b.readDoubleLE(0) : b.readDoubleBE(0);
      case GGUFValueType.UINT64: return le ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
      default: return le ? b.readBigInt64LE(0) : b.readBigInt64BE(0);
    }
  }

  value(key: string, type: number, depth = 0): GgufValue | undefined {
    if (FIXED_WIDTH[type as GGUFValueType] !== undefined) {
      const v = this.scalar(type);
      return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
    }
    if (type === GGUFValueType.STRING) return this.string(`value of "${key}"`, this.limits.maxStringBytes, wantsString(key));
    if (type !== GGUFValueType.ARRAY) throw this.r.invalid(`key "${key}" has unknown value type ${type}`);
    if (depth >= 2) throw this.r.invalid(`key "${key}" nests arrays too deeply`);
    const elementType = this.u32();
    const length = this.size(`array "${key}" length`);
    if (length > this.limits.maxArrayLength) throw this.r.invalid(`array "${key}" has ${length} elements, over the ${this.limits.maxArrayLength} limit`);
    const width = FIXED_WIDTH[elementType as GGUFValueType];
    const elementName = GGUFValueType[elementType] ?? String(elementType);
    // A string is at least its length, an array its type and length.
    const sizeWidth = this.version === 1 ? 4 : 8;
    if (depth === 0) this.ahead(length * (width ?? (elementType === GGUFValueType.STRING ? sizeWidth : 4 + sizeWidth)));
    if (width !== undefined && length <= KEPT_ARRAY_LENGTH && elementType !== GGUFValueType.UINT64 && elementType !== GGUFValueType.INT64) {
      const values: number[] = [];
      for (let i = 0; i < length; i++) values.push(Number(this.scalar(elementType)));
      return values;
    }
    if (width !== undefined) this.r.skip(width * length);
    else if (elementType === GGUFValueType.STRING) this.skipStrings(key, length);
    else for (let i = 0; i < length; i++) this.value(key, elementType, depth + 1);
    return { arrayLength: length, elementType: elementName };
  }
}

function numberOf(v: GgufValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.length > 0 ? Math.max(...v) : undefined; // per-layer values: the largest
  return undefined;
}

/** The quantization name of a GGUF `general.file_type`, e.g. 15 -> `Q4_K_M`. */
export function ggufFileTypeName(fileType: number): string | undefined {
  return GGMLFileQuantizationType[fileType];
}

/**
 * Reads a GGUF file's metadata and tensor table (never the tensor data), checked against the file size.
 * @throws ModelManagerError INVALID_FILE (with the reason), FILE_NOT_FOUND
 */
export async function readGgufHeader(path: string, limits: GgufLimits = {}): Promise<GgufHeader> {
  return readGgufHeaderSync(path, limits);
}

/** `readGgufHeader`, synchronously (the reads are synchronous preads either way: see BoundedReader). */
export function readGgufHeaderSync(path: string, limits: GgufLimits = {}): GgufHeader {
  const lim: Required<GgufLimits> = {
    maxHeaderBytes: limits.maxHeaderBytes ?? 64 * 2 ** 20,
    maxStringBytes: limits.maxStringBytes ?? 4 * 2 ** 20,
    maxArrayLength: limits.maxArrayLength ?? 4_000_000,
    maxTensors: limits.maxTensors ?? 1_000_000,
    maxKeys: limits.maxKeys ?? 100_000,
  };
  // Chunks of at most 64 KiB: the arrays skipped unread (token scores and types, 128 KiB each for
  // a 32,000-token vocabulary) are then mostly not read by a chunk running ahead of the parser
  // (576 KiB read per such file instead of 736 KiB, no slower).
  using r = BoundedReader.open(path, { maxBytes: lim.maxHeaderBytes, maxChunk: 64 * 1024, kind: 'GGUF' });
  if (r.size < 8) throw r.invalid(`the file has ${r.size} bytes, too few for a GGUF header`);
  // The first read takes a page; later ones are bounded by what the counts say must follow.
  r.readAheadEnd = 8;
  const head = r.bytes(8);
  if (head.readUInt32LE(0) !== MAGIC) throw r.invalid(`it does not start with the GGUF magic (found 0x${head.subarray(0, 4).toString('hex')})`);
  // A big-endian file stores the version byte-swapped: its low half is then zero.
  const le = (head.readUInt32LE(4) & 0xffff) !== 0;
  const version = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
  if (version < 1 || version > 3) throw r.invalid(`unsupported GGUF version ${version}`);
  const c = new GgufCursor(r, version, le, lim);
  const tensorCount = c.size('tensor count');
  if (tensorCount > lim.maxTensors) throw r.invalid(`it claims ${tensorCount} tensors, over the ${lim.maxTensors} limit`);
  const keyCount = c.size('key count');
  if (keyCount > lim.maxKeys) throw r.invalid(`it claims ${keyCount} metadata keys, over the ${lim.maxKeys} limit`);

  const metadata: Record<string, GgufValue> = {};
  const minEntry = minEntryBytes(version);
  const minTensor = minTensorBytes(version);
  for (let i = 0; i < keyCount; i++) {
    c.tail = (keyCount - i - 1) * minEntry + tensorCount * minTensor;
    c.ahead(minEntry);
    const key = (c.string('a metadata key', MAX_KEY_BYTES))!;
    const type = c.u32();
    const value = c.value(key, type);
    if (value !== undefined) metadata[key] = value;
  }

  const tensors: GgufTensorInfo[] = [];
  let parameterCount = 0;
  c.tail = 0;
  for (let i = 0; i < tensorCount; i++) {
    const fast = c.tensorFromWindow();
    if (fast) {
      parameterCount += fast.shape.reduce((a, b) => a * b, 1);
      if (!Number.isSafeInteger(parameterCount)) throw r.invalid('its tensor shapes add up to an impossible parameter count');
      tensors.push(fast);
      continue;
    }
    c.ahead((tensorCount - i) * minTensor);
    const name = (c.string('a tensor name', MAX_KEY_BYTES))!;
    const dims = c.u32();
    if (dims > MAX_DIMS) throw r.invalid(`tensor "${name}" has ${dims} dimensions, over the ${MAX_DIMS} limit`);
    const shape: number[] = [];
    for (let d = 0; d < dims; d++) shape.push(c.u64(`dimension ${d} of tensor "${name}"`));
    const type = c.u32();
    const offset = c.u64(`offset of tensor "${name}"`);
    const elements = shape.reduce((a, b) => a * b, 1);
    parameterCount += elements;
    if (!Number.isSafeInteger(parameterCount)) throw r.invalid('its tensor shapes add up to an impossible parameter count');
    tensors.push({ name, shape, type, offset });
  }

  const alignment = numberOf(metadata['general.alignment']) ?? 32;
  if (!Number.isSafeInteger(alignment) || alignment <= 0) throw r.invalid(`general.alignment ${alignment} is not a positive integer`);
  const tensorDataOffset = Math.ceil(r.pos / alignment) * alignment;
  // Even at one bit per weight the weights must fit in the file: a larger claim is a lie.
  if (parameterCount > r.size * 8) throw r.invalid(`its tensors declare ${parameterCount} parameters, more than a ${r.size}-byte file can hold`);
  let tensorDataBytes: number | undefined = 0;
  for (const t of tensors) {
    const block = GGML_BLOCK[t.type];
    if (!block) {
      tensorDataBytes = undefined;
      break;
    }
    const elements = t.shape.reduce((a, b) => a * b, 1);
    tensorDataBytes = Math.max(tensorDataBytes, t.offset + Math.ceil(elements / block[0]) * block[1]);
  }
  if (tensorCount > 0 && tensorDataOffset > r.size) throw r.invalid(`its tensor data would start at byte ${tensorDataOffset}, past the end of the ${r.size}-byte file (truncated)`);
  if (tensorDataBytes !== undefined && tensorDataOffset + tensorDataBytes > r.size) {
    throw r.invalid(`its tensors need ${tensorDataOffset + tensorDataBytes} bytes but the file has ${r.size} (truncated or lying header)`, {
      expectedBytes: tensorDataOffset + tensorDataBytes,
    });
  }

  const str = (k: string) => (typeof metadata[k] === 'string' ? (metadata[k] as string) : undefined);
  const architecture = str('general.architecture');
  const arch = (k: string) => (architecture ? numberOf(metadata[`${architecture}.${k}`]) : undefined);
  const fileType = numberOf(metadata['general.file_type']);
  const tokens = metadata['tokenizer.ggml.tokens'];
  return {
    path, fileSize: r.size, version, littleEndian: le, metadata, tensors, tensorDataOffset, tensorDataBytes, parameterCount,
    architecture, name: str('general.name'),
    contextLength: arch('context_length'), blockCount: arch('block_count'), headCount: arch('attention.head_count'),
    headCountKv: arch('attention.head_count_kv'), embeddingLength: arch('embedding_length'),
    vocabSize: arch('vocab_size') ?? (tokens && typeof tokens === 'object' && !Array.isArray(tokens) ? tokens.arrayLength : Array.isArray(tokens) ? tokens.length : undefined),
    chatTemplate: str('tokenizer.chat_template'),
    quantization: (fileType === undefined ? undefined : ggufFileTypeName(fileType)) ?? parseGGUFQuantLabel(basename(path)),
    splitCount: numberOf(metadata['split.count']) ?? 1,
    bytesRead: r.bytesRead,
  };
}
