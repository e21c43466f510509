/**
 * Generated GGUF models: a llama (text generation) and a bert-style encoder (embeddings), both on
 * the byte vocabulary, with random weights of the shapes llama.cpp expects for those architectures.
 */
import { BYTE_VOCAB, byteVocabMetadata, isPrintableByteToken } from './gguf-vocab.js';
import { elementCount, type GgmlType, type GgufFileSpec, type GgufTensorSpec, type GgufValue } from './gguf-writer.js';
import { fillTensor, type TensorInit } from './random.js';

export interface TransformerShape {
  hidden: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  feedForward: number;
  context: number;
}

/** A model ready to write, plus the config.json that lets the registry and discovery read it. */
export interface GeneratedGguf {
  spec: GgufFileSpec;
  config: Record<string, unknown>;
  parameterCount: number;
}

const u32 = (value: number): GgufValue => ({ type: 'uint32', value });
const f32 = (value: number): GgufValue => ({ type: 'float32', value });

/**
 * Collects tensor specs with their initialisation; matrices take the model's type, vectors (and
 * tables llama.cpp adds to activations directly, `keepF32`) stay F32, as llama.cpp's converter writes them.
 */
class TensorList {
  readonly tensors: GgufTensorSpec[] = [];
  constructor(private readonly seed: number, private readonly matrixType: GgmlType) {}

  add(name: string, shape: readonly number[], init: TensorInit, { after, keepF32 = false }: { after?: (out: Float32Array) => void; keepF32?: boolean } = {}): void {
    const seed = this.seed;
    this.tensors.push({
      name,
      shape,
      type: shape.length === 1 || keepF32 ? 'F32' : this.matrixType,
      fill(out) {
        fillTensor(out, init, seed, name);
        after?.(out);
      },
    });
  }
  /** A matrix `[input, output]` in ggml order, scaled so activations keep their size. */
  matrix(name: string, input: number, output: number): void {
    this.add(name, [input, output], { kind: 'uniform', scale: Math.sqrt(3 / input) });
  }
  get parameterCount(): number {
    return this.tensors.reduce((sum, t) => sum + elementCount(t.shape), 0);
  }
}

const ones: TensorInit = { kind: 'constant', value: 1 };
const zeros: TensorInit = { kind: 'constant', value: 0 };

/**
 * A llama decoder. The output rows of every token but printable ASCII bytes are zero, so random
 * weights still generate readable (if meaningless) text instead of control bytes.
 */
export function llamaModel(shape: TransformerShape, { seed, type, name }: { seed: number; type: GgmlType; name: string }): GeneratedGguf {
  const { hidden, layers, heads, kvHeads, feedForward, context } = shape;
  const headDim = hidden / heads;
  const vocab = BYTE_VOCAB.size;
  const t = new TensorList(seed, type);
  t.add('token_embd.weight', [hidden, vocab], { kind: 'uniform', scale: 1 });
  for (let i = 0; i < layers; i++) {
    const blk = `blk.${i}`;
    t.add(`${blk}.attn_norm.weight`, [hidden], ones);
    t.matrix(`${blk}.attn_q.weight`, hidden, hidden);
    t.matrix(`${blk}.attn_k.weight`, hidden, kvHeads * headDim);
    t.matrix(`${blk}.attn_v.weight`, hidden, kvHeads * headDim);
    t.matrix(`${blk}.attn_output.weight`, hidden, hidden);
    t.add(`${blk}.ffn_norm.weight`, [hidden], ones);
    t.matrix(`${blk}.ffn_gate.weight`, hidden, feedForward);
    t.matrix(`${blk}.ffn_up.weight`, hidden, feedForward);
    t.matrix(`${blk}.ffn_down.weight`, feedForward, hidden);
  }
  t.add('output_norm.weight', [hidden], ones);
  t.add('output.weight', [hidden, vocab], { kind: 'uniform', scale: 4 / Math.sqrt(hidden) }, {
    after(out) {
      for (let token = 0; token < vocab; token++) {
        if (!isPrintableByteToken(token)) out.fill(0, token * hidden, (token + 1) * hidden);
      }
    },
  });
  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: name },
    'general.file_type': u32(type === 'F16' ? 1 : 0),
    'llama.vocab_size': u32(vocab),
    'llama.context_length': u32(context),
    'llama.embedding_length': u32(hidden),
    'llama.block_count': u32(layers),
    'llama.feed_forward_length': u32(feedForward),
    'llama.rope.dimension_count': u32(headDim),
    'llama.rope.freq_base': f32(10000),
    'llama.attention.head_count': u32(heads),
    'llama.attention.head_count_kv': u32(kvHeads),
    'llama.attention.layer_norm_rms_epsilon': f32(1e-5),
    ...byteVocabMetadata(),
  };
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: hidden, num_hidden_layers: layers,
    num_attention_heads: heads, num_key_value_heads: kvHeads, intermediate_size: feedForward, vocab_size: vocab,
    max_position_embeddings: context, rms_norm_eps: 1e-5, bos_token_id: BYTE_VOCAB.bos, eos_token_id: BYTE_VOCAB.eos,
    torch_dtype: type === 'F16' ? 'float16' : 'float32',
  };
  return { spec: { metadata, tensors: t.tensors }, config, parameterCount: t.parameterCount };
}

/** A bert encoder with mean pooling, as llama.cpp's `bert` architecture loads it for embeddings. */
export function bertModel(shape: TransformerShape, { seed, type, name }: { seed: number; type: GgmlType; name: string }): GeneratedGguf {
  const { hidden, layers, heads, feedForward, context } = shape;
  const vocab = BYTE_VOCAB.size;
  const tokenTypes = 2;
  const t = new TensorList(seed, type);
  t.add('token_embd.weight', [hidden, vocab], { kind: 'uniform', scale: 1 });
  // llama.cpp adds these tables to F32 activations without a conversion: they must be F32.
  t.add('token_types.weight', [hidden, tokenTypes], { kind: 'uniform', scale: 0.1 }, { keepF32: true });
  t.add('position_embd.weight', [hidden, context], { kind: 'uniform', scale: 0.1 }, { keepF32: true });
  t.add('token_embd_norm.weight', [hidden], ones);
  t.add('token_embd_norm.bias', [hidden], zeros);
  for (let i = 0; i < layers; i++) {
    const blk = `blk.${i}`;
    for (const proj of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) {
      t.matrix(`${blk}.${proj}.weight`, hidden, hidden);
      t.add(`${blk}.${proj}.bias`, [hidden], zeros);
    }
    t.add(`${blk}.attn_output_norm.weight`, [hidden], ones);
    t.add(`${blk}.attn_output_norm.bias`, [hidden], zeros);
    t.matrix(`${blk}.ffn_up.weight`, hidden, feedForward);
    t.add(`${blk}.ffn_up.bias`, [feedForward], zeros);
    t.matrix(`${blk}.ffn_down.weight`, feedForward, hidden);
    t.add(`${blk}.ffn_down.bias`, [hidden], zeros);
    t.add(`${blk}.layer_output_norm.weight`, [hidden], ones);
    t.add(`${blk}.layer_output_norm.bias`, [hidden], zeros);
  }
  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'bert' },
    'general.name': { type: 'string', value: name },
    'general.file_type': u32(type === 'F16' ? 1 : 0),
    'bert.vocab_size': u32(vocab),
    'bert.context_length': u32(context),
    'bert.embedding_length': u32(hidden),
    'bert.block_count': u32(layers),
    'bert.feed_forward_length': u32(feedForward),
    'bert.attention.head_count': u32(heads),
    'bert.attention.layer_norm_epsilon': f32(1e-12),
    'bert.attention.causal': { type: 'bool', value: false },
    'bert.pooling_type': u32(1), // mean
    ...byteVocabMetadata(),
    'tokenizer.ggml.token_type_count': u32(tokenTypes),
  };
  const config = {
    architectures: ['BertModel'], model_type: 'bert', hidden_size: hidden, num_hidden_layers: layers,
    num_attention_heads: heads, intermediate_size: feedForward, vocab_size: vocab, max_position_embeddings: context,
    type_vocab_size: tokenTypes, layer_norm_eps: 1e-12, torch_dtype: type === 'F16' ? 'float16' : 'float32',
  };
  return { spec: { metadata, tensors: t.tensors }, config, parameterCount: t.parameterCount };
}
