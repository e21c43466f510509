/**
 * ONNX graph reader: the graph's inputs and outputs, opsets and metadata, never the weights.
 *
 * An ONNX file is one protobuf ModelProto whose graph keeps the initializers (weights) before
 * the inputs and outputs, so decoding it whole would read every weight. This reader walks the
 * protobuf wire format with a BoundedReader instead: it jumps over nodes and initializers by
 * their length prefixes (reading only an initializer's first bytes, for its shape), and hands
 * just the small ValueInfoProto records to onnx-proto to decode.
 */
import { createRequire } from 'node:module';
import { BoundedReader } from './bounded-reader.js';

// onnx-proto is CommonJS: `require` loads it in ~25 ms, where `import` first lexes its 330 KB
// for named exports (~85 ms, in every header reader thread of a scan).
const { onnx } = createRequire(import.meta.url)('onnx-proto') as typeof import('onnx-proto');

export interface OnnxLimits {
  /** Most bytes read from the file. Defaults to 16 MiB. */
  maxReadBytes?: number;
  /** Largest input/output record decoded. Defaults to 1 MiB. */
  maxRecordBytes?: number;
}

export interface OnnxTensorSpec {
  name: string;
  /** ONNX element type in lower case, e.g. `float32`, `int64`. */
  dtype: string;
  /** Fixed sizes as numbers, symbolic ones (`batch_size`) as strings, unknown as null. */
  shape?: (number | string | null)[];
}

export interface OnnxModelInfo {
  path: string;
  fileSize: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  opsets: Record<string, number>;
  metadata: Record<string, string>;
  graphName?: string;
  inputs: OnnxTensorSpec[];
  outputs: OnnxTensorSpec[];
  nodeCount: number;
  initializerCount: number;
  /** Sum of initializer element counts (the weights' parameters). */
  parameterCount: number;
  bytesRead: number;
}

/** TensorProto.DataType -> dtype name. */
const ONNX_DTYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16',
  11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** One protobuf field header. */
interface Field {
  number: number;
  wire: number;
  /** Length of a length-delimited field. */
  length: number;
  /** Value of a varint field. */
  value: number;
}

/**
 * A varint decoded in place from the reader's window, moving `at.i` past it; -1 when it does not
 * end inside the window within 10 bytes (`varint` then reads on, or words the error).
 */
function varintIn(buf: Buffer, at: { i: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = at.i; i < buf.length && i < at.i + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      at.i = i + 1;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

function varint(r: BoundedReader): number {
  const at = { i: r.pos - r.windowStart };
  if (at.i >= 0) {
    const value = varintIn(r.window, at);
    if (value >= 0) {
      r.skip(at.i - (r.pos - r.windowStart));
      return value;
    }
  }
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const [b] = r.bytes(1);
    result += (b! & 0x7f) * scale;
    if ((b! & 0x80) === 0) return result;
    scale *= 128;
  }
  throw r.invalid('a varint runs longer than 10 bytes (not protobuf)');
}

function checkFieldEnd(r: BoundedReader, f: Field, end: number): Field {
  if (r.pos + f.length > end) throw r.invalid(`field ${f.number} of ${f.length} bytes runs past the end of its message at byte ${end} (truncated or lying)`);
  return f;
}

/**
 * The next field header when it lies whole in the window, decoded in place (a graph has
 * thousands of tiny records); undefined otherwise, and for anything odd, which `field` then
 * reads and words the error for.
 */
function fieldInWindow(r: BoundedReader, end: number): Field | undefined {
  const buf = r.window;
  const start = r.pos - r.windowStart;
  if (start < 0) return undefined;
  const at = { i: start };
  const key = varintIn(buf, at);
  const number = Math.floor(key / 8);
  const wire = key % 8;
  if (key < 0 || number === 0) return undefined;
  const f: Field = { number, wire, length: 0, value: 0 };
  if (wire === 0 || wire === 2) {
    const v = varintIn(buf, at);
    if (v < 0) return undefined;
    if (wire === 0) f.value = v;
    else f.length = v;
  } else if (wire !== 1 && wire !== 5) return undefined;
  r.skip(at.i - start);
  if (wire === 1) r.skip(8);
  else if (wire === 5) r.skip(4);
  return checkFieldEnd(r, f, end);
}

function field(r: BoundedReader, end: number): Field {
  const fast = fieldInWindow(r, end);
  if (fast) return fast;
  const key = varint(r);
  const number = Math.floor(key / 8);
  const wire = key % 8;
  if (number === 0) throw r.invalid(`field number 0 at byte ${r.pos} (not protobuf)`);
  const f: Field = { number, wire, length: 0, value: 0 };
  if (wire === 0) f.value = varint(r);
  else if (wire === 1) r.skip(8);
  else if (wire === 5) r.skip(4);
  else if (wire === 2) f.length = varint(r);
  else throw r.invalid(`wire type ${wire} at byte ${r.pos} (not ONNX protobuf)`);
  return checkFieldEnd(r, f, end);
}

/** A small record decoded by onnx-proto; a record it cannot decode makes the file invalid. */
function decodeRecord<T>(r: BoundedReader, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw r.invalid(`its ${what} record cannot be decoded (${(error as Error).message})`);
  }
}

function toSpec(bytes: Uint8Array): OnnxTensorSpec {
  const info = onnx.ValueInfoProto.decode(bytes);
  const tensor = info.type?.tensorType;
  const shape = tensor?.shape?.dim?.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : null));
  const spec: OnnxTensorSpec = { name: info.name, dtype: ONNX_DTYPES[tensor?.elemType ?? 0] ?? 'unknown' };
  if (shape) spec.shape = shape;
  return spec;
}

/** Reads an initializer's leading fields (dims, data type, name) from at most its first 512 bytes. */
function initializerHead(r: BoundedReader, end: number): { elements: number; name?: string } {
  const headEnd = Math.min(end, r.pos + 512);
  let elements = 1;
  let name: string | undefined;
  while (r.pos < headEnd) {
    const f = field(r, end);
    if (f.number === 1 && f.wire === 0) elements *= f.value;
    else if (f.number === 1 && f.wire === 2) {
      const stop = r.pos + f.length;
      while (r.pos < stop) {
        const at = { i: r.pos - r.windowStart };
        const dim = at.i >= 0 ? varintIn(r.window, at) : -1;
        if (dim >= 0) r.skip(at.i - (r.pos - r.windowStart));
        elements *= dim >= 0 ? dim : varint(r);
      }
    } else if (f.number === 8 && f.wire === 2 && f.length <= 4096) name = r.bytes(f.length).toString('utf8');
    else if (f.number === 2 || f.number === 3 || (f.number === 8 && f.wire === 2)) r.skip(f.length);
    else break; // the data fields follow: nothing more of interest
  }
  r.pos = end;
  return { elements, name };
}

/**
 * Reads an ONNX model's graph inputs and outputs without reading its weights.
 * @throws ModelManagerError INVALID_FILE (with the reason), FILE_NOT_FOUND
 */
export async function readOnnxModel(path: string, limits: OnnxLimits = {}): Promise<OnnxModelInfo> {
  return readOnnxModelSync(path, limits);
}

/** `readOnnxModel`, synchronously. */
export function readOnnxModelSync(path: string, { maxReadBytes = 16 * 2 ** 20, maxRecordBytes = 2 ** 20 }: OnnxLimits = {}): OnnxModelInfo {
  using r = BoundedReader.open(path, { maxBytes: maxReadBytes, initialChunk: 512, kind: 'ONNX' });
  const info: OnnxModelInfo = {
    path, fileSize: r.size, opsets: {}, metadata: {}, inputs: [], outputs: [], nodeCount: 0, initializerCount: 0, parameterCount: 0, bytesRead: 0,
  };
  const small = (f: Field) => {
    if (f.length > maxRecordBytes) throw r.invalid(`a record of ${f.length} bytes is over the ${maxRecordBytes}-byte limit`);
    return new Uint8Array(r.bytes(f.length));
  };
  let sawGraph = false;
  const rawInputs: OnnxTensorSpec[] = [];
  const initializerNames = new Set<string>();
  while (r.pos < r.size) {
    const f = field(r, r.size);
    if (f.wire !== 2) {
      if (f.number === 1 && f.wire === 0) info.irVersion = f.value;
      continue;
    }
    const end = r.pos + f.length;
    if (f.number === 2 || f.number === 3) {
      const text = Buffer.from(small(f)).toString('utf8');
      if (f.number === 2) info.producerName = text;
      else info.producerVersion = text;
    } else if (f.number === 8) {
      const bytes = small(f);
      const opset = decodeRecord(r, 'opset', () => onnx.OperatorSetIdProto.decode(bytes));
      info.opsets[opset.domain || 'ai.onnx'] = Number(opset.version);
    } else if (f.number === 14) {
      const bytes = small(f);
      const entry = decodeRecord(r, 'metadata', () => onnx.StringStringEntryProto.decode(bytes));
      info.metadata[entry.key] = entry.value;
    } else if (f.number === 7) {
      sawGraph = true;
      while (r.pos < end) {
        const g = field(r, end);
        const gEnd = r.pos + g.length;
        if (g.wire !== 2) continue;
        if (g.number === 1) {
          info.nodeCount += 1;
          r.skip(g.length);
        } else if (g.number === 5) {
          info.initializerCount += 1;
          const head = initializerHead(r, gEnd);
          info.parameterCount += head.elements;
          if (head.name !== undefined) initializerNames.add(head.name);
        } else if (g.number === 2) info.graphName = Buffer.from(small(g)).toString('utf8');
        else if (g.number === 11 || g.number === 12) {
          const bytes = small(g);
          (g.number === 11 ? rawInputs : info.outputs).push(decodeRecord(r, g.number === 11 ? 'input' : 'output', () => toSpec(bytes)));
        }
        else r.skip(g.length);
        r.pos = gEnd;
      }
    } else r.skip(f.length);
    r.pos = end;
  }
  // Every ONNX model states its IR version and the opsets it uses, and its graph yields something:
  // other protobuf (or bytes that happen to parse as one) lacks these.
  if (!sawGraph) throw r.invalid('it holds no graph');
  if (info.irVersion === undefined || info.irVersion === 0) throw r.invalid('it states no IR version');
  if (Object.keys(info.opsets).length === 0) throw r.invalid('it imports no operator set');
  if (info.outputs.length === 0) throw r.invalid('its graph has no outputs');
  // Before IR version 4 the weights were listed as graph inputs too; they are not inputs a caller feeds.
  info.inputs = rawInputs.filter((i) => !initializerNames.has(i.name));
  info.bytesRead = r.bytesRead;
  return info;
}
