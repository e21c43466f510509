/**
 * Minimal writers of real-format model files for discovery tests and its benchmark: GGUF headers
 * (tensor data left as a sparse hole of the declared size), ONNX graphs (inline weights as holes
 * inside the protobuf), safetensors (via encodeSafetensorsHeader). The runtime's full GGUF writer
 * (src/testmodels) makes loadable models; these only need headers that tell the truth about sizes.
 */
import { closeSync, openSync, writeSync, ftruncateSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { encodeSafetensorsHeader } from '../../src/index.js';

const { onnx } = onnxProto;

/** Buffers written in order; numbers are holes of that many bytes (sparse, read as zeros). */
export type Segment = Uint8Array | number;

/** Writes segments to a file, leaving holes unwritten so big declared weights cost no disk. */
export function writeSparse(path: string, segments: readonly Segment[]): number {
  const fd = openSync(path, 'w');
  let pos = 0;
  try {
    for (const s of segments) {
      if (typeof s === 'number') pos += s;
      else {
        writeSync(fd, s, 0, s.length, pos);
        pos += s.length;
      }
    }
    ftruncateSync(fd, pos);
  } finally {
    closeSync(fd);
  }
  return pos;
}

// ---- GGUF ----

export type GgufEntry =
  | { type: 'string'; value: string }
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'strings'; value: string[] }
  | { type: 'f32s'; value: number[] };

/** ggml type -> [elements per block, bytes per block]. */
const BLOCKS: Record<string, [number, number, number]> = { F32: [0, 1, 4], F16: [1, 1, 2], Q8_0: [8, 32, 34], Q4_K: [12, 256, 144], Q6_K: [14, 256, 210] };

export interface GgufTensorDef {
  name: string;
  shape: number[];
  type?: keyof typeof BLOCKS;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
function gstr(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([u64(bytes.length), bytes]);
}

function ggufValue(e: GgufEntry): Buffer {
  switch (e.type) {
    case 'string': return Buffer.concat([u32(8), gstr(e.value)]);
    case 'u32': return Buffer.concat([u32(4), u32(e.value)]);
    case 'f32': { const b = Buffer.alloc(4); b.writeFloatLE(e.value); return Buffer.concat([u32(6), b]); }
    case 'bool': return Buffer.concat([u32(7), Buffer.from([e.value ? 1 : 0])]);
    case 'strings': return Buffer.concat([u32(9), u32(8), u64(e.value.length), ...e.value.map(gstr)]);
    case 'f32s': { const b = Buffer.alloc(4 * e.value.length); e.value.forEach((v, i) => b.writeFloatLE(v, i * 4)); return Buffer.concat([u32(9), u32(6), u64(e.value.length), b]); }
  }
}

/** GGUF v3 header bytes and the size of the tensor data that must follow. */
export function ggufHeader(metadata: Record<string, GgufEntry>, tensors: readonly GgufTensorDef[], { tensorCount }: { tensorCount?: bigint } = {}): { header: Buffer; dataBytes: number } {
  const parts: Buffer[] = [Buffer.from('GGUF'), u32(3), u64(tensorCount ?? BigInt(tensors.length)), u64(Object.keys(metadata).length)];
  for (const [key, entry] of Object.entries(metadata)) parts.push(gstr(key), ggufValue(entry));
  let offset = 0;
  for (const t of tensors) {
    const [type, per, bytes] = BLOCKS[t.type ?? 'F16']!;
    parts.push(gstr(t.name), u32(t.shape.length), ...t.shape.map((d) => u64(d)), u32(type), u64(offset));
    const size = Math.ceil(t.shape.reduce((a, b) => a * b, 1) / per) * bytes;
    offset += Math.ceil(size / 32) * 32;
  }
  const header = Buffer.concat(parts);
  const padded = Buffer.concat([header, Buffer.alloc((32 - (header.length % 32)) % 32)]);
  return { header: padded, dataBytes: offset };
}

/** Writes a GGUF file whose tensor data is a hole of the declared size. */
export function writeGguf(path: string, metadata: Record<string, GgufEntry>, tensors: readonly GgufTensorDef[]): number {
  const { header, dataBytes } = ggufHeader(metadata, tensors);
  return writeSparse(path, [header, dataBytes]);
}

/** Metadata of a llama-like GGUF model. */
export function llamaGgufMetadata({ name, arch = 'llama', layers = 2, heads = 8, kvHeads = 2, context = 4096, fileType = 15, vocab = ['<s>', '</s>', 'a', 'b'], chatTemplate }: {
  name: string; arch?: string; layers?: number; heads?: number; kvHeads?: number; context?: number; fileType?: number; vocab?: string[]; chatTemplate?: string;
}): Record<string, GgufEntry> {
  const m: Record<string, GgufEntry> = {
    'general.architecture': { type: 'string', value: arch },
    'general.name': { type: 'string', value: name },
    'general.file_type': { type: 'u32', value: fileType },
    [`${arch}.context_length`]: { type: 'u32', value: context },
    [`${arch}.block_count`]: { type: 'u32', value: layers },
    [`${arch}.embedding_length`]: { type: 'u32', value: 64 },
    [`${arch}.attention.head_count`]: { type: 'u32', value: heads },
    [`${arch}.attention.head_count_kv`]: { type: 'u32', value: kvHeads },
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'strings', value: vocab },
    'tokenizer.ggml.scores': { type: 'f32s', value: vocab.map(() => 0) },
  };
  if (chatTemplate) m['tokenizer.chat_template'] = { type: 'string', value: chatTemplate };
  return m;
}

/** Tensors of a llama-like model: embeddings, per-layer attention and MLP, output. */
export function llamaTensors({ layers = 2, hidden = 64, vocab = 256, ff = 128, type = 'Q4_K' as GgufTensorDef['type'] } = {}): GgufTensorDef[] {
  const out: GgufTensorDef[] = [{ name: 'token_embd.weight', shape: [hidden, vocab], type }];
  for (let i = 0; i < layers; i++) {
    for (const n of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) out.push({ name: `blk.${i}.${n}.weight`, shape: [hidden, hidden], type });
    for (const n of ['ffn_gate', 'ffn_up']) out.push({ name: `blk.${i}.${n}.weight`, shape: [hidden, ff], type });
    out.push({ name: `blk.${i}.ffn_down.weight`, shape: [ff, hidden], type }, { name: `blk.${i}.attn_norm.weight`, shape: [hidden], type: 'F32' });
  }
  out.push({ name: 'output.weight', shape: [hidden, vocab], type: 'Q6_K' });
  return out;
}

// ---- safetensors ----

/** Writes a safetensors file whose tensor data is a hole of the declared size. */
export function writeSafetensors(path: string, tensors: Record<string, { dtype: string; shape: number[] }>): number {
  const { header, dataBytes } = encodeSafetensorsHeader(tensors);
  return writeSparse(path, [header, dataBytes]);
}

/** Tensors of a llama-like HF checkpoint. */
export function llamaSafetensors({ layers = 2, hidden = 64, vocab = 256, ff = 128, dtype = 'BF16' } = {}): Record<string, { dtype: string; shape: number[] }> {
  const t: Record<string, { dtype: string; shape: number[] }> = { 'model.embed_tokens.weight': { dtype, shape: [vocab, hidden] } };
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) t[`${p}.self_attn.${n}.weight`] = { dtype, shape: [hidden, hidden] };
    t[`${p}.mlp.gate_proj.weight`] = { dtype, shape: [ff, hidden] };
    t[`${p}.mlp.up_proj.weight`] = { dtype, shape: [ff, hidden] };
    t[`${p}.mlp.down_proj.weight`] = { dtype, shape: [hidden, ff] };
    t[`${p}.input_layernorm.weight`] = { dtype, shape: [hidden] };
    t[`${p}.post_attention_layernorm.weight`] = { dtype, shape: [hidden] };
  }
  t['model.norm.weight'] = { dtype, shape: [hidden] };
  t['lm_head.weight'] = { dtype, shape: [vocab, hidden] };
  return t;
}

// ---- ONNX ----

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const delimited = (field: number, body: Uint8Array) => Buffer.concat([tag(field, 2), varint(body.length), body]);

export interface OnnxIo {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

function valueInfo(io: OnnxIo): Uint8Array {
  return onnx.ValueInfoProto.encode({
    name: io.name,
    type: { tensorType: { elemType: io.elemType, shape: { dim: io.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  }).finish();
}

/**
 * ONNX model segments: ModelProto with a graph whose initializers carry inline float32 raw data,
 * each left as a hole, so the file has its true size without costing disk.
 */
export function onnxSegments({ inputs, outputs, initializers, nodes = 3 }: { inputs: OnnxIo[]; outputs: OnnxIo[]; initializers: { name: string; dims: number[] }[]; nodes?: number }): Segment[] {
  const graph: Segment[] = [];
  let graphLength = 0;
  const push = (s: Segment) => {
    graph.push(s);
    graphLength += typeof s === 'number' ? s : s.length;
  };
  for (let i = 0; i < nodes; i++) push(delimited(1, onnx.NodeProto.encode({ opType: 'Identity', input: [`x${i}`], output: [`y${i}`], name: `node${i}` }).finish()));
  push(delimited(2, Buffer.from('main_graph')));
  for (const init of initializers) {
    const head = onnx.TensorProto.encode({ dims: init.dims, dataType: 1, name: init.name }).finish();
    const dataBytes = init.dims.reduce((a, b) => a * b, 1) * 4;
    const rawHead = Buffer.concat([tag(9, 2), varint(dataBytes)]);
    const length = head.length + rawHead.length + dataBytes;
    push(Buffer.concat([tag(5, 2), varint(length), head, rawHead]));
    push(dataBytes);
  }
  for (const io of inputs) push(delimited(11, valueInfo(io)));
  for (const io of outputs) push(delimited(12, valueInfo(io)));
  const top = Buffer.concat([tag(1, 0), varint(8), delimited(2, Buffer.from('model-manager-test')), delimited(8, onnx.OperatorSetIdProto.encode({ domain: '', version: 17 }).finish())]);
  return [top, Buffer.concat([tag(7, 2), varint(graphLength)]), ...graph];
}

/** Writes an ONNX model (weights as holes); returns its size. */
export function writeOnnx(path: string, spec: Parameters<typeof onnxSegments>[0]): number {
  return writeSparse(path, onnxSegments(spec));
}

/** A BERT-like text encoder's graph I/O. */
export const TEXT_ENCODER_IO = {
  inputs: [
    { name: 'input_ids', elemType: 7, dims: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: 7, dims: ['batch_size', 'sequence_length'] },
  ],
  outputs: [{ name: 'last_hidden_state', elemType: 1, dims: ['batch_size', 'sequence_length', 384] }],
} satisfies { inputs: OnnxIo[]; outputs: OnnxIo[] };
