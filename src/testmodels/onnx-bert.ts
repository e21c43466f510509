/**
 * A BERT encoder as an ONNX graph with random weights, shaped like the exports of
 * sentence-transformers models: inputs `input_ids`, `attention_mask`, `token_type_ids`
 * (int64, [batch, sequence]) and output `last_hidden_state` (float32, [batch, sequence, hidden]),
 * which feature-extraction pipelines mean-pool. Standard operators of opset 17 only, so
 * onnxruntime applies the same fusions it applies to real exports.
 */
import { OnnxGraphBuilder } from './onnx-graph.js';
import { fillTensor, type TensorInit } from './random.js';

export interface BertShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  feedForward: number;
  maxPositions: number;
}

const OPSET = 17; // LayerNormalization is a standard operator from 17 on
const LAYER_NORM_EPS = 1e-12;

/** Writes the graph of `shape`; returns the encoded model and its parameter count. */
export function bertOnnxModel(shape: BertShape, { seed, name }: { seed: number; name: string }): { bytes: Uint8Array; parameterCount: number } {
  const { vocab, hidden, layers, heads, feedForward, maxPositions } = shape;
  const headDim = hidden / heads;
  const g = new OnnxGraphBuilder();
  const weight = (weightName: string, dims: number[], init: TensorInit) =>
    g.weight(weightName, dims, fillTensor(new Float32Array(dims.reduce((a, b) => a * b, 1)), init, seed, weightName));
  const uniform = (scale: number): TensorInit => ({ kind: 'uniform', scale });
  const ones: TensorInit = { kind: 'constant', value: 1 };
  const zeros: TensorInit = { kind: 'constant', value: 0 };
  const layerNorm = (x: string, prefix: string) =>
    g.op('LayerNormalization', [x, weight(`${prefix}.weight`, [hidden], ones), weight(`${prefix}.bias`, [hidden], zeros)],
      { axis: -1, epsilon: { float: LAYER_NORM_EPS } });
  const linear = (x: string, prefix: string, input: number, output: number) =>
    g.op('Add', [g.op('MatMul', [x, weight(`${prefix}.weight`, [input, output], uniform(Math.sqrt(3 / input)))]),
      weight(`${prefix}.bias`, [output], zeros)]);

  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const tokenTypeIds = g.input('token_type_ids', 'int64', dims);

  // Embeddings: word + position (0..sequence-1) + token type, then LayerNorm.
  const sequenceLength = g.op('Gather', [g.op('Shape', [inputIds]), g.constant([1], 'int64', [])], { axis: 0 });
  const positions = g.op('Range', [g.constant([0], 'int64', []), sequenceLength, g.constant([1], 'int64', [])]);
  let x = g.op('Add', [
    g.op('Add', [
      g.op('Gather', [weight('embeddings.word_embeddings.weight', [vocab, hidden], uniform(1)), inputIds]),
      g.op('Gather', [weight('embeddings.position_embeddings.weight', [maxPositions, hidden], uniform(0.1)), positions]),
    ]),
    g.op('Gather', [weight('embeddings.token_type_embeddings.weight', [2, hidden], uniform(0.1)), tokenTypeIds]),
  ]);
  x = layerNorm(x, 'embeddings.LayerNorm');

  // Padding positions get a large negative score before the softmax: [batch, 1, 1, sequence].
  const maskFloat = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: 1 }), g.constant([1, 2], 'int64')]);
  const maskBias = g.op('Mul', [g.op('Sub', [g.constant([1], 'float32', []), maskFloat]), g.constant([-10000], 'float32', [])]);
  const splitHeads = g.constant([0, 0, heads, headDim], 'int64');
  const mergeHeads = g.constant([0, 0, hidden], 'int64');
  const scale = g.constant([1 / Math.sqrt(headDim)], 'float32', []);

  for (let i = 0; i < layers; i++) {
    const p = `encoder.layer.${i}`;
    const heads4d = (value: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [value, splitHeads])], { perm });
    const q = heads4d(linear(x, `${p}.attention.self.query`, hidden, hidden), [0, 2, 1, 3]);
    const k = heads4d(linear(x, `${p}.attention.self.key`, hidden, hidden), [0, 2, 3, 1]);
    const v = heads4d(linear(x, `${p}.attention.self.value`, hidden, hidden), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, k]), scale]), maskBias]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), mergeHeads]);
    const attention = linear(merged, `${p}.attention.output.dense`, hidden, hidden);
    x = layerNorm(g.op('Add', [attention, x]), `${p}.attention.output.LayerNorm`);

    const up = linear(x, `${p}.intermediate.dense`, hidden, feedForward);
    // GELU written with Erf (exact form), as PyTorch exports it.
    const gelu = g.op('Mul', [
      g.op('Mul', [up, g.constant([0.5], 'float32', [])]),
      g.op('Add', [g.op('Erf', [g.op('Div', [up, g.constant([Math.SQRT2], 'float32', [])])]), g.constant([1], 'float32', [])]),
    ]);
    const down = linear(gelu, `${p}.output.dense`, feedForward, hidden);
    x = layerNorm(g.op('Add', [down, x]), `${p}.output.LayerNorm`);
  }
  g.output(x, 'last_hidden_state', 'float32', [...dims, hidden]);
  return { bytes: g.encode({ name, opset: OPSET }), parameterCount: g.parameterCount };
}
