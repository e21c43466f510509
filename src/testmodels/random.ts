/**
 * Deterministic random weights for generated models.
 *
 * Each tensor gets its own stream, derived from the model seed and the tensor's name, so a
 * tensor's values do not depend on the order tensors are written in, and the same seed always
 * gives byte-identical files.
 */

/** FNV-1a over the UTF-16 code units: a small stable hash to derive per-tensor seeds. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A mulberry32 generator: fast, 32-bit state, good enough for weights (not for secrets). */
export class SeededRandom {
  private state: number;

  constructor(seed: number, stream = '') {
    this.state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ hashString(stream)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Fills `out` with uniform values in [-scale, scale). */
  fillUniform(out: Float32Array, scale: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = (this.next() * 2 - 1) * scale;
    return out;
  }
}

/** How a generated tensor is filled: random around zero, or a constant (norm gains, biases). */
export type TensorInit = { kind: 'uniform'; scale: number } | { kind: 'constant'; value: number };

/** Fills `out` for the tensor `name` of a model with seed `seed`. */
export function fillTensor(out: Float32Array, init: TensorInit, seed: number, name: string): Float32Array {
  if (init.kind === 'constant') return out.fill(init.value);
  return new SeededRandom(seed, name).fillUniform(out, init.scale);
}
