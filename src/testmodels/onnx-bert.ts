/**
 * A BERT encoder as an ONNX graph with random weights, shaped like the exports of
 * sentence-transformers models: inputs `input_ids`, `attention_mask`, `token_type_ids`
 * (int64, [batch, sequence]) and output `last_hidden_state` (float32, [batch, sequence, hidden]),
 * which feature-extraction pipelines mean-pool. Standard operators of opset 17 only, so
 * onnxruntime applies the same fusions it applies to real exports.
 */
import { OnnxGraphBuilder } from './onnx-graph.js';
import { OnnxLayers } from './onnx-layers.js';

export interface BertShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  feedForward: number;
  maxPositions: number;
}

/** LayerNormalization is a standard operator from opset 17 on. */
export const ONNX_OPSET = 17;

/** Builds the graph of `shape`; returns the encoded model and its parameter count. */
export function bertOnnxModel(shape: BertShape, { seed, name }: { seed: number; name: string }): { bytes: Uint8Array; parameterCount: number } {
  const { vocab, hidden, layers, heads, feedForward, maxPositions } = shape;
  const headDim = hidden / heads;
  const g = new OnnxGraphBuilder();
  const nn = new OnnxLayers(g, seed, 1e-12);

  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const tokenTypeIds = g.input('token_type_ids', 'int64', dims);

  // Embeddings: word + position (0..sequence-1) + token type, then LayerNorm.
  const sequenceLength = g.op('Gather', [g.op('Shape', [inputIds]), g.constant([1], 'int64', [])], { axis: 0 });
  const positions = g.op('Range', [g.constant([0], 'int64', []), sequenceLength, g.constant([1], 'int64', [])]);
  const word = g.op('Gather', [nn.weight('embeddings.word_embeddings.weight', [vocab, hidden], { kind: 'uniform', scale: 1 }), inputIds]);
  const position = g.op('Gather', [nn.weight('embeddings.position_embeddings.weight', [maxPositions, hidden], { kind: 'uniform', scale: 0.1 }), positions]);
  const tokenType = g.op('Gather', [nn.weight('embeddings.token_type_embeddings.weight', [2, hidden], { kind: 'uniform', scale: 0.1 }), tokenTypeIds]);
  let x = nn.layerNorm(g.op('Add', [g.op('Add', [word, position]), tokenType]), 'embeddings.LayerNorm', hidden);

  const bias = nn.paddingBias(attentionMask);
  for (let i = 0; i < layers; i++) {
    const p = `encoder.layer.${i}`;
    const q = nn.splitHeads(nn.linear(x, `${p}.attention.self.query`, hidden, hidden), heads, headDim);
    const k = nn.splitHeads(nn.linear(x, `${p}.attention.self.key`, hidden, hidden), heads, headDim);
    const v = nn.splitHeads(nn.linear(x, `${p}.attention.self.value`, hidden, hidden), heads, headDim);
    const attention = nn.linear(nn.attention(q, k, v, bias, hidden, headDim), `${p}.attention.output.dense`, hidden, hidden);
    x = nn.layerNorm(g.op('Add', [attention, x]), `${p}.attention.output.LayerNorm`, hidden);
    const up = nn.gelu(nn.linear(x, `${p}.intermediate.dense`, hidden, feedForward));
    x = nn.layerNorm(g.op('Add', [nn.linear(up, `${p}.output.dense`, feedForward, hidden), x]), `${p}.output.LayerNorm`, hidden);
  }
  g.output(x, 'last_hidden_state', 'float32', [...dims, hidden]);
  return { bytes: g.encode({ name, opset: ONNX_OPSET }), parameterCount: g.parameterCount };
}
