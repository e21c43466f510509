/**
 * A GPT-2 style decoder as an ONNX graph with a key/value cache, in the input/output layout of
 * optimum's `text-generation-with-past` exports that transformers.js generates with:
 * `input_ids`, `attention_mask` (past + new tokens), `position_ids`, `past_key_values.N.key|value`
 * in; `logits` and `present.N.key|value` out.
 *
 * The output rows of every token but printable ASCII bytes are zero, so random weights generate
 * readable (if meaningless) text.
 */
import { BYTE_BPE_VOCAB_SIZE, byteTokenId } from './byte-bpe-tokenizer.js';
import { ONNX_OPSET } from './onnx-bert.js';
import { OnnxGraphBuilder } from './onnx-graph.js';
import { OnnxLayers } from './onnx-layers.js';

const isPrintable = (token: number) => token >= byteTokenId(0x20) && token <= byteTokenId(0x7e);

export interface Gpt2Shape {
  hidden: number;
  layers: number;
  heads: number;
  maxPositions: number;
}

export function gpt2OnnxModel(shape: Gpt2Shape, { seed, name }: { seed: number; name: string }): { bytes: Uint8Array; parameterCount: number } {
  const { hidden, layers, heads, maxPositions } = shape;
  const vocab = BYTE_BPE_VOCAB_SIZE;
  const headDim = hidden / heads;
  const g = new OnnxGraphBuilder();
  const nn = new OnnxLayers(g, seed, 1e-5);
  const int64Scalar = (v: number) => g.constant([v], 'int64', []);

  const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const cacheShape = (length: string) => ['batch_size', heads, length, headDim];
  const past = Array.from({ length: layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, 'float32', cacheShape('past_sequence_length')),
    value: g.input(`past_key_values.${i}.value`, 'float32', cacheShape('past_sequence_length')),
  }));

  // Query i (absolute position total-new+i) sees keys 0..total-new+i that the mask keeps.
  const total = g.op('Gather', [g.op('Shape', [attentionMask]), int64Scalar(1)], { axis: 0 });
  const fresh = g.op('Gather', [g.op('Shape', [inputIds]), int64Scalar(1)], { axis: 0 });
  const keyPositions = g.op('Unsqueeze', [g.op('Range', [int64Scalar(0), total, int64Scalar(1)]), g.constant([0], 'int64')]);
  const queryPositions = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [total, fresh]), total, int64Scalar(1)]), g.constant([1], 'int64')]);
  const causal = g.op('Where', [g.op('LessOrEqual', [keyPositions, queryPositions]), nn.scalar(0), nn.scalar(-10000)]);
  const bias = g.op('Add', [causal, nn.paddingBias(attentionMask)]);

  const wte = nn.weight('transformer.wte.weight', [vocab, hidden], { kind: 'uniform', scale: 1 });
  const wpe = nn.weight('transformer.wpe.weight', [maxPositions, hidden], { kind: 'uniform', scale: 0.1 });
  let x = g.op('Add', [g.op('Gather', [wte, inputIds]), g.op('Gather', [wpe, positionIds])]);
  for (const [i, cache] of past.entries()) {
    const p = `transformer.h.${i}`;
    const h = nn.layerNorm(x, `${p}.ln_1`, hidden);
    const q = nn.splitHeads(nn.linear(h, `${p}.attn.q_proj`, hidden, hidden), heads, headDim);
    const k = g.op('Concat', [cache.key, nn.splitHeads(nn.linear(h, `${p}.attn.k_proj`, hidden, hidden), heads, headDim)], { axis: 2 });
    const v = g.op('Concat', [cache.value, nn.splitHeads(nn.linear(h, `${p}.attn.v_proj`, hidden, hidden), heads, headDim)], { axis: 2 });
    g.output(k, `present.${i}.key`, 'float32', cacheShape('total_sequence_length'));
    g.output(v, `present.${i}.value`, 'float32', cacheShape('total_sequence_length'));
    x = g.op('Add', [x, nn.linear(nn.attention(q, k, v, bias, hidden, headDim), `${p}.attn.c_proj`, hidden, hidden)]);
    const mlp = nn.linear(nn.gelu(nn.linear(nn.layerNorm(x, `${p}.ln_2`, hidden), `${p}.mlp.c_fc`, hidden, 4 * hidden)), `${p}.mlp.c_proj`, 4 * hidden, hidden);
    x = g.op('Add', [x, mlp]);
  }
  const lmHead = nn.weight('lm_head.weight', [hidden, vocab], { kind: 'uniform', scale: 4 / Math.sqrt(hidden) }, (values) => {
    for (let token = 0; token < vocab; token++) {
      if (isPrintable(token)) continue;
      for (let row = 0; row < hidden; row++) values[row * vocab + token] = 0;
    }
  });
  const logits = g.op('MatMul', [nn.layerNorm(x, 'transformer.ln_f', hidden), lmHead]);
  g.output(logits, 'logits', 'float32', ['batch_size', 'sequence_length', vocab]);
  return { bytes: g.encode({ name, opset: ONNX_OPSET }), parameterCount: g.parameterCount };
}

