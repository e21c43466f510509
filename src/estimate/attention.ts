/**
 * Attention type from a config, as DESIGN fixes it: MLA when the config has a low-rank
 * (`kv_lora_rank` / `q_lora_rank`) projection; else one KV head is MQA, fewer KV heads than
 * query heads is GQA, and as many is MHA.
 */
import type { AttentionType } from '../registry/index.js';
import { transformerShape, type HfConfig, type TransformerShape } from './config-shape.js';

/** The attention type of a shape, or undefined when the config names no heads. */
export function attentionTypeOfShape(shape: TransformerShape): AttentionType | undefined {
  if (shape.mla) return 'mla';
  if (shape.heads === undefined || shape.kvHeads === undefined) return undefined;
  if (shape.kvHeads === 1 && shape.heads > 1) return 'mqa';
  if (shape.kvHeads < shape.heads) return 'gqa';
  return 'mha';
}

/** The attention type of a Hugging Face config (`text_config` for multimodal ones). */
export function detectAttentionType(config: HfConfig): AttentionType | undefined {
  return attentionTypeOfShape(transformerShape(config));
}
