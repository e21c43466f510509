/**
 * T5's building blocks over `OnnxGraphBuilder`, as transformers' T5 computes them: RMS layer norm
 * without bias, linear layers without bias initialised as T5 initialises them, the gated-GELU feed
 * forward of T5 v1.1 / Flan-T5, and attention biased by learned relative positions (bucketed
 * distances, one table per stack, shared by its layers).
 */
import { ONNX_TYPES, type OnnxGraphBuilder } from './onnx-graph.js';
import { OnnxLayers } from './onnx-layers.js';

export interface RelativePositions {
  /** Buckets of the learned table (`relative_attention_num_buckets`). */
  buckets: number;
  /** Distances from this one on share the last bucket (`relative_attention_max_distance`). */
  maxDistance: number;
}

export class T5Layers {
  readonly nn: OnnxLayers;

  constructor(readonly g: OnnxGraphBuilder, seed: number, private readonly eps: number) {
    this.nn = new OnnxLayers(g, seed, eps);
  }

  /** A `[input, output]` matrix of uniform values with standard deviation `std`. */
  matrix(name: string, input: number, output: number, std: number): string {
    return this.nn.weight(name, [input, output], { kind: 'uniform', scale: std * Math.sqrt(3) });
  }

  /** `x @ W`: T5's linear layers have no bias. */
  linear(x: string, name: string, input: number, output: number, std: number): string {
    return this.g.op('MatMul', [x, this.matrix(name, input, output, std)]);
  }

  /** T5LayerNorm: scales by the root mean square, subtracts no mean and adds no bias. */
  rmsNorm(x: string, name: string, hidden: number): string {
    const { g, nn } = this;
    const meanSquare = g.op('ReduceMean', [g.op('Pow', [x, nn.scalar(2)])], { axes: [-1], keepdims: 1 });
    const normalized = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, nn.scalar(this.eps)])])]);
    return g.op('Mul', [normalized, nn.weight(name, [hidden], { kind: 'constant', value: 1 })]);
  }

  /** `gelu_new`, the tanh approximation of GELU that T5 v1.1 uses. */
  geluTanh(x: string): string {
    const { g, nn } = this;
    const cube = g.op('Mul', [g.op('Pow', [x, nn.scalar(3)]), nn.scalar(0.044715)]);
    const inner = g.op('Mul', [g.op('Add', [x, cube]), nn.scalar(Math.sqrt(2 / Math.PI))]);
    return g.op('Mul', [g.op('Mul', [x, nn.scalar(0.5)]), g.op('Add', [g.op('Tanh', [inner]), nn.scalar(1)])]);
  }

  /** T5DenseGatedActDense: `(gelu(x @ wi_0) * (x @ wi_1)) @ wo`, after its own norm, added to `x`. */
  feedForward(x: string, prefix: string, hidden: number, feedForward: number): string {
    const { g } = this;
    const h = this.rmsNorm(x, `${prefix}.layer_norm.weight`, hidden);
    const std = hidden ** -0.5;
    const gate = this.geluTanh(this.linear(h, `${prefix}.DenseReluDense.wi_0.weight`, hidden, feedForward, std));
    const up = this.linear(h, `${prefix}.DenseReluDense.wi_1.weight`, hidden, feedForward, std);
    return g.op('Add', [x, this.linear(g.op('Mul', [gate, up]), `${prefix}.DenseReluDense.wo.weight`, feedForward, hidden, feedForward ** -0.5)]);
  }

  /**
   * T5's `_relative_position_bucket` of int64 distances `relative` (key position minus query
   * position): exact buckets for short distances, logarithmic ones up to `maxDistance`; both
   * directions get half the buckets when `bidirectional` (the encoder), the past alone otherwise.
   */
  relativeBuckets(relative: string, { buckets, maxDistance }: RelativePositions, bidirectional: boolean): string {
    const { g, nn } = this;
    const int64 = (value: number) => g.constant([value], 'int64', []);
    const toInt64 = (x: string) => g.op('Cast', [x], { to: ONNX_TYPES.int64 });
    const half = bidirectional ? Math.floor(buckets / 2) : buckets;
    const distance = bidirectional ? g.op('Abs', [relative]) : g.op('Neg', [g.op('Min', [relative, int64(0)])]);
    const maxExact = Math.floor(half / 2);
    // Max(…, 1) keeps Log off zero; those distances take the exact bucket anyway.
    const ratio = g.op('Div', [g.op('Cast', [g.op('Max', [distance, int64(1)])], { to: ONNX_TYPES.float32 }), nn.scalar(maxExact)]);
    const scaled = g.op('Mul', [g.op('Div', [g.op('Log', [ratio]), nn.scalar(Math.log(maxDistance / maxExact))]), nn.scalar(half - maxExact)]);
    const large = g.op('Min', [g.op('Add', [int64(maxExact), toInt64(scaled)]), int64(half - 1)]);
    const bucket = g.op('Where', [g.op('Less', [distance, int64(maxExact)]), distance, large]);
    if (!bidirectional) return bucket;
    const after = g.op('Mul', [toInt64(g.op('Greater', [relative, int64(0)])), int64(half)]);
    return g.op('Add', [after, bucket]);
  }

  /**
   * The learned position bias `[1, heads, queries, keys]` of int64 position vectors: the table
   * `name` (`[buckets, heads]`) looked up at each query/key pair's bucket.
   */
  positionBias(name: string, queryPositions: string, keyPositions: string, heads: number, positions: RelativePositions, bidirectional: boolean, hidden: number): string {
    const { g } = this;
    const relative = g.op('Sub', [g.op('Unsqueeze', [keyPositions, g.constant([0], 'int64')]), g.op('Unsqueeze', [queryPositions, g.constant([1], 'int64')])]);
    const table = this.matrix(name, positions.buckets, heads, hidden ** -0.5);
    const values = g.op('Gather', [table, this.relativeBuckets(relative, positions, bidirectional)]);
    return g.op('Unsqueeze', [g.op('Transpose', [values], { perm: [2, 0, 1] }), g.constant([0], 'int64')]);
  }

  /** `0, 1, ..., length-1` (int64) for an int64 scalar `length`; from `start` when given. */
  positions(length: string, start?: string): string {
    const { g } = this;
    return g.op('Range', [start ?? g.constant([0], 'int64', []), length, g.constant([1], 'int64', [])]);
  }

  /** Dimension `axis` of `x`'s shape, as an int64 scalar. */
  dim(x: string, axis: number): string {
    const { g } = this;
    return g.op('Gather', [g.op('Shape', [x]), g.constant([axis], 'int64', [])], { axis: 0 });
  }
}
