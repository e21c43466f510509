/**
 * Transformer building blocks over `OnnxGraphBuilder`, with seeded random weights named like the
 * PyTorch parameters they stand for: linear layers, LayerNorm, exact GELU and multi-head attention.
 */
import type { OnnxGraphBuilder } from './onnx-graph.js';
import { fillTensor, type TensorInit } from './random.js';

const ones: TensorInit = { kind: 'constant', value: 1 };
const zeros: TensorInit = { kind: 'constant', value: 0 };

export class OnnxLayers {
  constructor(readonly g: OnnxGraphBuilder, private readonly seed: number, private readonly layerNormEps: number) {}

  /** A seeded weight; `adjust` may change the values before they are stored. */
  weight(name: string, dims: number[], init: TensorInit, adjust?: (values: Float32Array) => void): string {
    const values = fillTensor(new Float32Array(dims.reduce((a, b) => a * b, 1)), init, this.seed, name);
    adjust?.(values);
    return this.g.weight(name, dims, values);
  }

  /** A float scalar constant. */
  scalar(value: number): string {
    return this.g.constant([value], 'float32', []);
  }

  layerNorm(x: string, prefix: string, hidden: number): string {
    return this.g.op('LayerNormalization', [x, this.weight(`${prefix}.weight`, [hidden], ones), this.weight(`${prefix}.bias`, [hidden], zeros)], {
      axis: -1, epsilon: { float: this.layerNormEps },
    });
  }

  /** `x @ W + b` with W `[input, output]`, scaled so activations keep their size. */
  linear(x: string, prefix: string, input: number, output: number): string {
    const w = this.weight(`${prefix}.weight`, [input, output], { kind: 'uniform', scale: Math.sqrt(3 / input) });
    return this.g.op('Add', [this.g.op('MatMul', [x, w]), this.weight(`${prefix}.bias`, [output], zeros)]);
  }

  /** GELU written with Erf (the exact form), as PyTorch exports it. */
  gelu(x: string): string {
    const { g } = this;
    const erf = g.op('Erf', [g.op('Div', [x, this.scalar(Math.SQRT2)])]);
    return g.op('Mul', [g.op('Mul', [x, this.scalar(0.5)]), g.op('Add', [erf, this.scalar(1)])]);
  }

  /** `[batch, seq, heads*dim]` -> `[batch, heads, seq, dim]`. */
  splitHeads(x: string, heads: number, headDim: number): string {
    const shape = this.g.constant([0, 0, heads, headDim], 'int64');
    return this.g.op('Transpose', [this.g.op('Reshape', [x, shape])], { perm: [0, 2, 1, 3] });
  }

  /**
   * Scaled dot-product attention of `[batch, heads, seq, dim]` tensors, `bias` added to the
   * scores before the softmax; returns `[batch, seq, heads*dim]`. `scale` defaults to
   * 1/sqrt(headDim); T5 passes 1 (its query weights carry the scaling).
   */
  attention(q: string, k: string, v: string, bias: string, hidden: number, headDim: number, scale = 1 / Math.sqrt(headDim)): string {
    const { g } = this;
    const products = g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
    const scores = scale === 1 ? products : g.op('Mul', [products, this.scalar(scale)]);
    const context = g.op('MatMul', [g.op('Softmax', [g.op('Add', [scores, bias])], { axis: -1 }), v]);
    return g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.constant([0, 0, hidden], 'int64')]);
  }

  /** `[batch, 1, 1, length]`: 0 where `mask` (int64 `[batch, length]`) is 1, a large negative number where it is 0. */
  paddingBias(mask: string): string {
    const { g } = this;
    const maskFloat = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), g.constant([1, 2], 'int64')]);
    return g.op('Mul', [g.op('Sub', [this.scalar(1), maskFloat]), this.scalar(-10000)]);
  }
}
