/**
 * Scan phase fast path for safetensors headers: the parameter counts of a header in the layout
 * the safetensors library (serde_json) writes.
 *
 * A 7B-70B model's header is 30-90 KB of JSON naming hundreds of tensors; decoding it to a
 * string and matching a regular expression per tensor was the largest cost of a cold scan.
 * This walks the header's bytes once, making no string per tensor (dtype names are packed into
 * numbers, names skipped by native `indexOf`, fixed keys compared a word at a time): 24 us for
 * a 17 KB header against 68 us, with the same checks as `parseSafetensorsHeaderJson` (offsets
 * inside the data, sizes matching dtypes). Anything else, or any doubt, gives undefined: the
 * caller then takes the exact JSON path, which also words the errors.
 */
import { MAX_TENSORS, SAFETENSORS_DTYPE_BYTES } from './safetensors.js';

export interface CanonicalSummary {
  parameterCount: number;
  parametersByDtype: Record<string, number>;
  dataBytes: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** What follows a tensor's name, up to its dtype. */
const DTYPE_KEY = literal(bytesOf('":{"dtype":"'));
const SHAPE_KEY = literal(bytesOf('","shape":['));
const OFFSETS_KEY = literal(bytesOf('],"data_offsets":['));
const METADATA_KEY = literal(bytesOf('{"__metadata__":{'));

/**
 * A dtype name ([0-9A-Z_], at most 7 characters) is packed into a number one character at a
 * time, so no string is made per tensor.
 */
const pack = (code: number, c: number) => code * 64 + (c - 0x2f);

const DTYPES = Object.keys(SAFETENSORS_DTYPE_BYTES);
/** Packed dtype name -> index in DTYPES. */
const DTYPE_INDEX = new Map(DTYPES.map((name, i) => [bytesOf(name).reduce(pack, 0), i]));
const DTYPE_WIDTH = DTYPES.map((name) => SAFETENSORS_DTYPE_BYTES[name]!);

/** A literal as little-endian 32-bit words (and its last 0-3 bytes), compared a word at a time. */
interface Literal {
  length: number;
  words: Int32Array;
  tail: Uint8Array;
}

function literal(bytes: Uint8Array): Literal {
  const whole = bytes.length - (bytes.length % 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return { length: bytes.length, words: Int32Array.from({ length: whole / 4 }, (_, i) => view.getInt32(4 * i, true)), tail: bytes.slice(whole) };
}

/** True when the header holds `lit` at `at`. Indexed loops over typed arrays: ~15% faster than `for...of` over arrays here. */
function hasAt(bytes: Uint8Array, view: DataView, at: number, lit: Literal): boolean {
  if (at < 0 || at + lit.length > bytes.length) return false;
  const { words, tail } = lit;
  let i = at;
  for (let k = 0; k < words.length; k++, i += 4) if (view.getInt32(i, true) !== words[k]) return false;
  for (let k = 0; k < tail.length; k++, i++) if (bytes[i] !== tail[k]) return false;
  return true;
}

/** The index just past the JSON string starting at `at` (a quote; the header holds no escapes), or -1. */
function skipString(bytes: Buffer, at: number, end: number): number {
  if (bytes[at] !== QUOTE) return -1;
  const q = bytes.indexOf(QUOTE, at + 1);
  return q >= 0 && q < end ? q + 1 : -1;
}

/** Where `{"__metadata__":{...}` (string values only) ends, at the `,` or `}` after it; 1 when there is none; -1 for any other layout. */
function skipMetadata(bytes: Buffer, view: DataView, end: number): number {
  if (!hasAt(bytes, view, 0, METADATA_KEY)) return bytes[0] === 0x7b ? 1 : -1;
  let p = METADATA_KEY.length;
  if (bytes[p] === CLOSE_BRACE) return p + 1;
  for (;;) {
    p = skipString(bytes, p, end);
    if (p < 0 || bytes[p] !== 0x3a) return -1;
    p = skipString(bytes, p + 1, end);
    if (p < 0) return -1;
    if (bytes[p] === CLOSE_BRACE) return p + 1;
    if (bytes[p] !== COMMA) return -1;
    p += 1;
  }
}

/**
 * The parameter counts of a canonical header (the JSON after the 8-byte length, trailing
 * spaces allowed), or undefined for any other layout or anything the exact parser must judge.
 * Tensor details are not kept: discovery needs the counts.
 */
export function summarizeCanonicalHeader(bytes: Buffer, dataSize: number): CanonicalSummary | undefined {
  // Escapes are for the exact parser to judge (real tensor names have none): one native search.
  if (bytes.includes(BACKSLASH)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x09)) end--;
  // Parameters per dtype index (-1: not seen yet), and the dtypes in the order they first appear.
  const perDtype = new Array<number>(DTYPES.length).fill(-1);
  const order: number[] = [];
  let parameterCount = 0;
  let dataBytes = 0;
  const done = (): CanonicalSummary => {
    const parametersByDtype: Record<string, number> = {};
    for (const i of order) parametersByDtype[DTYPES[i]!] = perDtype[i]!;
    return { parameterCount, parametersByDtype, dataBytes };
  };
  let p = skipMetadata(bytes, view, end);
  if (p < 0) return undefined;
  if (p > 1) {
    // After the metadata: `}` ends the header, `,` leads to the tensors.
    if (bytes[p] === CLOSE_BRACE) return p + 1 === end ? done() : undefined;
    if (bytes[p] !== COMMA) return undefined;
    p += 1;
  }
  let lastCode = -1;
  let dtype = -1;
  for (let entries = 0; entries <= MAX_TENSORS; entries++) {
    // "name":{"dtype":"BF16","shape":[4096,11008],"data_offsets":[0,90177536]}
    p = skipString(bytes, p, end);
    if (p < 0 || !hasAt(bytes, view, p - 1, DTYPE_KEY)) return undefined;
    const dtypeStart = p - 1 + DTYPE_KEY.length;
    let q = dtypeStart;
    let code = 0;
    for (let c = bytes[q]; c !== QUOTE; c = bytes[++q]) {
      if (c === undefined || c < 0x30 || c > 0x5f || q - dtypeStart === 7) return undefined;
      code = pack(code, c);
    }
    // Most tensors of a file share one dtype: the map is asked only when it changes.
    if (code !== lastCode) {
      const found = DTYPE_INDEX.get(code);
      if (found === undefined) return undefined;
      lastCode = code;
      dtype = found;
    }
    if (!hasAt(bytes, view, q, SHAPE_KEY)) return undefined;
    q += SHAPE_KEY.length;
    // Shape: digits and commas; `[]` is a scalar (one element), an empty dimension is not JSON.
    let count = 1;
    let dim = 0;
    let digits = 0;
    for (let c = bytes[q]; c !== CLOSE_BRACKET; c = bytes[++q]) {
      if (c === COMMA) {
        if (digits === 0) return undefined;
        count *= dim;
        dim = 0;
        digits = 0;
      } else if (c !== undefined && c >= 0x30 && c <= 0x39) {
        dim = dim * 10 + (c - 0x30);
        digits += 1;
      } else return undefined;
    }
    if (digits > 0) count *= dim;
    else if (bytes[q - 1] === COMMA) return undefined;
    if (!hasAt(bytes, view, q, OFFSETS_KEY)) return undefined;
    q += OFFSETS_KEY.length;
    let from = 0;
    const fromStart = q;
    for (let c = bytes[q]; c !== undefined && c >= 0x30 && c <= 0x39; c = bytes[++q]) from = from * 10 + (c - 0x30);
    if (q === fromStart || bytes[q] !== COMMA) return undefined;
    const toStart = ++q;
    let to = 0;
    for (let c = bytes[q]; c !== undefined && c >= 0x30 && c <= 0x39; c = bytes[++q]) to = to * 10 + (c - 0x30);
    if (q === toStart || bytes[q] !== CLOSE_BRACKET || bytes[q + 1] !== CLOSE_BRACE) return undefined;
    const width = DTYPE_WIDTH[dtype]!;
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(to) || to < from || to > dataSize || Math.ceil(count * width) !== to - from) return undefined;
    parameterCount += count;
    if (perDtype[dtype]! < 0) {
      perDtype[dtype] = 0;
      order.push(dtype);
    }
    perDtype[dtype] = perDtype[dtype]! + count;
    dataBytes += to - from;
    const next = bytes[q + 2];
    p = q + 3;
    if (next === CLOSE_BRACE) return p === end ? done() : undefined;
    if (next !== COMMA) return undefined;
  }
  return undefined;
}
