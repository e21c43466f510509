/**
 * A T5 v1.1 / Flan-T5 style encoder-decoder as the two ONNX graphs of optimum's
 * `text2text-generation-with-past` export, which transformers.js generates with:
 *
 * - `encoder_model.onnx`: `input_ids`, `attention_mask` in; `last_hidden_state` out.
 * - `decoder_model_merged.onnx`: `encoder_attention_mask`, `input_ids`, `encoder_hidden_states`,
 *   `past_key_values.N.{decoder,encoder}.{key,value}` and the bool `use_cache_branch` in;
 *   `logits` and `present.N.{decoder,encoder}.{key,value}` out.
 *
 * Optimum merges a decoder without and one with past into one graph whose `If` on
 * `use_cache_branch` holds both whole decoders. Only the cross-attention keys and values differ
 * between the two (computed from the encoder's states on the first step, passed back in after),
 * so here the `If` holds just those; the inputs, outputs and compute per step are the same.
 *
 * The LM head's columns of the tokens in `neverGenerated` are zero, so random weights generate
 * readable pieces rather than padding or end-of-sequence tokens.
 */
import { ONNX_OPSET } from './onnx-bert.js';
import { OnnxGraphBuilder } from './onnx-graph.js';
import { T5Layers, type RelativePositions } from './onnx-t5-layers.js';

export interface T5Shape extends RelativePositions {
  vocab: number;
  /** `d_model`. */
  hidden: number;
  /** `d_kv`: the size of each head (heads x d_kv need not equal d_model). */
  headDim: number;
  heads: number;
  /** `d_ff`. */
  feedForward: number;
  /** Encoder layers (`num_layers`); the decoder has as many (`num_decoder_layers`). */
  layers: number;
}

/** T5's `layer_norm_epsilon`. */
export const T5_LAYER_NORM_EPS = 1e-6;

interface T5Options {
  seed: number;
  name: string;
  /** Token ids the LM head never predicts (padding, end of sequence, unknown). */
  neverGenerated: readonly number[];
}

export interface T5OnnxModels {
  encoder: Uint8Array;
  decoder: Uint8Array;
  /** Parameters of the model, the embedding both graphs hold counted once. */
  parameterCount: number;
}

function embeddings(t5: T5Layers, { vocab, hidden }: T5Shape, inputIds: string): string {
  return t5.g.op('Gather', [t5.matrix('shared.weight', vocab, hidden, 1), inputIds]);
}

/** Keys and values of `source` (`[batch, seq, hidden]`) for the attention `prefix`, split into heads. */
function keysAndValues(t5: T5Layers, { hidden, heads, headDim }: T5Shape, source: string, prefix: string): { key: string; value: string } {
  const inner = heads * headDim;
  const project = (kind: string) => t5.nn.splitHeads(t5.linear(source, `${prefix}.${kind}.weight`, hidden, inner, hidden ** -0.5), heads, headDim);
  return { key: project('k'), value: project('v') };
}

/** The attention `prefix` of the normalised `h` over `key`/`value` with `bias`, added to `x`. */
function attend(t5: T5Layers, { hidden, heads, headDim }: T5Shape, x: string, h: string, key: string, value: string, bias: string, prefix: string): string {
  const inner = heads * headDim;
  const query = t5.nn.splitHeads(t5.linear(h, `${prefix}.q.weight`, hidden, inner, (hidden * headDim) ** -0.5), heads, headDim);
  const context = t5.nn.attention(query, key, value, bias, inner, headDim, 1);
  return t5.g.op('Add', [x, t5.linear(context, `${prefix}.o.weight`, inner, hidden, inner ** -0.5)]);
}

function encoderModel(shape: T5Shape, { seed, name }: T5Options): { bytes: Uint8Array; parameterCount: number } {
  const { hidden, heads, feedForward, layers } = shape;
  const g = new OnnxGraphBuilder();
  const t5 = new T5Layers(g, seed, T5_LAYER_NORM_EPS);
  const dims = ['batch_size', 'encoder_sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);

  const positions = t5.positions(t5.dim(inputIds, 1));
  const table = 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';
  const bias = g.op('Add', [t5.positionBias(table, positions, positions, heads, shape, true, hidden), t5.nn.paddingBias(attentionMask)]);
  let x = embeddings(t5, shape, inputIds);
  for (let i = 0; i < layers; i++) {
    const p = `encoder.block.${i}.layer`;
    const h = t5.rmsNorm(x, `${p}.0.layer_norm.weight`, hidden);
    const { key, value } = keysAndValues(t5, shape, h, `${p}.0.SelfAttention`);
    x = attend(t5, shape, x, h, key, value, bias, `${p}.0.SelfAttention`);
    x = t5.feedForward(x, `${p}.1`, hidden, feedForward);
  }
  g.output(t5.rmsNorm(x, 'encoder.final_layer_norm.weight', hidden), 'last_hidden_state', 'float32', [...dims, hidden]);
  return { bytes: g.encode({ name: `${name}-encoder`, opset: ONNX_OPSET }), parameterCount: g.parameterCount };
}

function decoderModel(shape: T5Shape, { seed, name, neverGenerated }: T5Options): { bytes: Uint8Array; parameterCount: number } {
  const { vocab, hidden, heads, headDim, feedForward, layers } = shape;
  const g = new OnnxGraphBuilder();
  const t5 = new T5Layers(g, seed, T5_LAYER_NORM_EPS);
  const encoderMask = g.input('encoder_attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']);
  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  const encoderStates = g.input('encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length', hidden]);
  const cacheShape = (length: string) => ['batch_size', heads, length, headDim];
  const past = Array.from({ length: layers }, (_, i) => {
    const cache = (part: string, kind: string, length: string) => g.input(`past_key_values.${i}.${part}.${kind}`, 'float32', cacheShape(length));
    return {
      decoder: { key: cache('decoder', 'key', 'past_decoder_sequence_length'), value: cache('decoder', 'value', 'past_decoder_sequence_length') },
      encoder: { key: cache('encoder', 'key', 'encoder_sequence_length_out'), value: cache('encoder', 'value', 'encoder_sequence_length_out') },
    };
  });
  const useCacheBranch = g.input('use_cache_branch', 'bool', [1]);

  // Cross-attention keys and values: passed back in once computed from the encoder's states.
  const crossOutputs = past.flatMap((_, i) => ['key', 'value'].map((kind) => ({ name: `present.${i}.encoder.${kind}`, type: 'float32' as const, shape: cacheShape('encoder_sequence_length_out') })));
  const cross = g.ifElse(useCacheBranch, crossOutputs,
    () => past.flatMap(({ encoder }) => [encoder.key, encoder.value]),
    (branch) => {
      const inBranch = new T5Layers(branch, seed, T5_LAYER_NORM_EPS);
      return past.flatMap((_, i) => {
        const { key, value } = keysAndValues(inBranch, shape, encoderStates, `decoder.block.${i}.layer.1.EncDecAttention`);
        return [key, value];
      });
    });

  // Query i (absolute position past+i) sees keys 0..past+i: a causal mask on top of the position bias.
  const pastLength = t5.dim(past[0]!.decoder.key, 2);
  const total = g.op('Add', [pastLength, t5.dim(inputIds, 1)]);
  const queryPositions = t5.positions(total, pastLength);
  const keyPositions = t5.positions(total);
  const keyRow = g.op('Unsqueeze', [keyPositions, g.constant([0], 'int64')]);
  const queryColumn = g.op('Unsqueeze', [queryPositions, g.constant([1], 'int64')]);
  const causal = g.op('Where', [g.op('LessOrEqual', [keyRow, queryColumn]), t5.nn.scalar(0), t5.nn.scalar(-10000)]);
  const table = 'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight';
  const selfBias = g.op('Add', [t5.positionBias(table, queryPositions, keyPositions, heads, shape, false, hidden), causal]);
  const crossBias = t5.nn.paddingBias(encoderMask);

  const presents: [string, string][] = [];
  let x = embeddings(t5, shape, inputIds);
  for (const [i, cache] of past.entries()) {
    const p = `decoder.block.${i}.layer`;
    const h = t5.rmsNorm(x, `${p}.0.layer_norm.weight`, hidden);
    const fresh = keysAndValues(t5, shape, h, `${p}.0.SelfAttention`);
    const key = g.op('Concat', [cache.decoder.key, fresh.key], { axis: 2 });
    const value = g.op('Concat', [cache.decoder.value, fresh.value], { axis: 2 });
    presents.push([key, `present.${i}.decoder.key`], [value, `present.${i}.decoder.value`]);
    presents.push([cross[2 * i]!, `present.${i}.encoder.key`], [cross[2 * i + 1]!, `present.${i}.encoder.value`]);
    x = attend(t5, shape, x, h, key, value, selfBias, `${p}.0.SelfAttention`);
    const hCross = t5.rmsNorm(x, `${p}.1.layer_norm.weight`, hidden);
    x = attend(t5, shape, x, hCross, cross[2 * i]!, cross[2 * i + 1]!, crossBias, `${p}.1.EncDecAttention`);
    x = t5.feedForward(x, `${p}.2`, hidden, feedForward);
  }
  // Logits of a standard deviation near 2: sampling at temperature 1 still varies with the seed.
  const lmHead = t5.nn.weight('lm_head.weight', [hidden, vocab], { kind: 'uniform', scale: 2 * Math.sqrt(3 / hidden) }, (values) => {
    for (const token of neverGenerated) for (let row = 0; row < hidden; row++) values[row * vocab + token] = 0;
  });
  const logits = g.op('MatMul', [t5.rmsNorm(x, 'decoder.final_layer_norm.weight', hidden), lmHead]);
  g.output(logits, 'logits', 'float32', ['batch_size', 'decoder_sequence_length', vocab]);
  for (const [value, outputName] of presents) {
    const length = outputName.includes('.encoder.') ? 'encoder_sequence_length_out' : 'total_decoder_sequence_length';
    g.output(value, outputName, 'float32', cacheShape(length));
  }
  return { bytes: g.encode({ name: `${name}-decoder`, opset: ONNX_OPSET }), parameterCount: g.parameterCount };
}

/** Builds both graphs of `shape`. The same seed gives the same weights (the shared embedding in both). */
export function t5OnnxModels(shape: T5Shape, options: T5Options): T5OnnxModels {
  const encoder = encoderModel(shape, options);
  const decoder = decoderModel(shape, options);
  return { encoder: encoder.bytes, decoder: decoder.bytes, parameterCount: encoder.parameterCount + decoder.parameterCount - shape.vocab * shape.hidden };
}
