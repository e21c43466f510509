/**
 * KV cache size: what each generated or prompted token adds to memory.
 *
 * Standard attention keeps a key and a value per layer and KV head: 2 x layers x kvHeads x headDim.
 * MLA (DeepSeek) keeps one compressed latent per layer instead: kv_lora_rank + qk_rope_head_dim.
 * Encoder-decoders keep the decoder's self-attention cache plus the cross-attention keys and
 * values of the encoded input (taken as long as the context). Encoder-only models keep none.
 */
import type { TransformerShape } from './config-shape.js';

export interface KvCacheShape {
  /** Elements (not bytes) one token adds across all layers. */
  elementsPerToken: number;
  /** Elements per token in one layer, to apply sliding windows layer by layer. */
  elementsPerLayerToken: number;
  /** Layers that keep a cache. */
  layers: number;
  /** How it was computed, e.g. `gqa 2x32x8x128`. */
  method: string;
}

/** The per-token cache shape, or undefined when the config lacks the sizes to compute it. */
export function kvCacheShape(shape: TransformerShape, encoderOnly: boolean): KvCacheShape | undefined {
  if (encoderOnly) return { elementsPerToken: 0, elementsPerLayerToken: 0, layers: 0, method: 'encoder-only: no KV cache' };
  if (shape.mla && shape.layers) {
    const latent = shape.mla.kvLoraRank + shape.mla.qkRopeHeadDim;
    return { elementsPerToken: shape.layers * latent, elementsPerLayerToken: latent, layers: shape.layers, method: `mla ${shape.layers}x(${shape.mla.kvLoraRank}+${shape.mla.qkRopeHeadDim})` };
  }
  const { kvHeads, headDim } = shape;
  if (kvHeads === undefined || headDim === undefined) return undefined;
  if (shape.encoderDecoder) {
    const layers = shape.decoderLayers ?? shape.layers;
    if (!layers) return undefined;
    const perLayer = 2 * 2 * kvHeads * headDim;
    return { elementsPerToken: layers * perLayer, elementsPerLayerToken: perLayer, layers, method: `encoder-decoder self+cross 2x2x${layers}x${kvHeads}x${headDim}` };
  }
  if (!shape.layers) return undefined;
  const perLayer = 2 * kvHeads * headDim;
  const kind = shape.heads !== undefined && kvHeads === 1 && shape.heads > 1 ? 'mqa' : shape.heads !== undefined && kvHeads < shape.heads ? 'gqa' : 'mha';
  return { elementsPerToken: shape.layers * perLayer, elementsPerLayerToken: perLayer, layers: shape.layers, method: `${kind} 2x${shape.layers}x${kvHeads}x${headDim}` };
}

/**
 * Elements cached for `context` tokens of one sequence: sliding-window layers stop growing at
 * their window, the others grow with the context.
 */
export function kvCacheElements(kv: KvCacheShape, shape: TransformerShape, context: number): number {
  const window = shape.slidingWindow;
  if (window === undefined) return kv.elementsPerLayerToken * kv.layers * context;
  const sliding = Math.min(shape.slidingLayers ?? kv.layers, kv.layers);
  return kv.elementsPerLayerToken * ((kv.layers - sliding) * context + sliding * Math.min(context, window));
}
