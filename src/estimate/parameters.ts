/**
 * Parameter count from a config alone, for when no weights are at hand. Each family's formula
 * follows its modeling file in transformers; the totals match the published ones (see docs/hf.md).
 */
import { transformerShape, type HfConfig, type TransformerShape } from './config-shape.js';

export interface ConfigParameterCount {
  parameters: number;
  /** `config:<formula>`; `config:generic-decoder` when the family is unknown and a llama-style decoder was assumed. */
  method: string;
}

type Counter = (shape: TransformerShape, config: HfConfig) => number | undefined;

/** Shapes a counter needs, or undefined when one is missing. */
function core(s: TransformerShape) {
  const { layers, hidden, heads, kvHeads, headDim, intermediate, vocab } = s;
  if (!layers || !hidden || !heads || kvHeads === undefined || !headDim || !intermediate || !vocab) return undefined;
  return { layers, hidden, heads, kvHeads, headDim, intermediate, vocab };
}

function n(config: HfConfig, key: string): number | undefined {
  const value = config[key];
  return typeof value === 'number' ? value : undefined;
}

function embeddings(vocab: number, hidden: number, tied: boolean): number {
  return vocab * hidden * (tied ? 1 : 2);
}

/** Llama-style decoder: RMSNorm, rotary, gated MLP; Mixtral/Qwen-MoE experts when the config has them. */
const llamaDecoder: Counter = (s, config) => {
  const c = core(s);
  if (!c) return undefined;
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const qkvBias = config.attention_bias === true || s.family === 'qwen2' || s.family === 'qwen2_moe' ? q + 2 * kv : 0;
  const qkNorm = s.family.startsWith('qwen3') ? 2 * c.headDim : 0;
  const attention = c.hidden * q + 2 * c.hidden * kv + q * c.hidden + qkvBias + qkNorm;
  const experts = n(config, 'num_local_experts') ?? n(config, 'num_experts');
  let mlp = 3 * c.hidden * c.intermediate;
  if (experts) {
    const expertSize = n(config, 'moe_intermediate_size') ?? c.intermediate;
    const shared = n(config, 'shared_expert_intermediate_size');
    mlp = experts * 3 * c.hidden * expertSize + experts * c.hidden + (shared ? 3 * c.hidden * shared + c.hidden : 0);
  }
  const norms = (s.family === 'gemma2' || s.family === 'gemma3_text' ? 4 : 2) * c.hidden;
  return embeddings(c.vocab, c.hidden, s.tiedEmbeddings) + c.layers * (attention + mlp + norms) + c.hidden;
};

/** GPT-2: learned positions, LayerNorm with bias, Conv1D layers with bias, 4x MLP. */
const gpt2: Counter = (s) => {
  const c = core(s);
  if (!c) return undefined;
  const h = c.hidden;
  const layer = 2 * h + (h * 3 * h + 3 * h) + (h * h + h) + 2 * h + (h * c.intermediate + c.intermediate) + (c.intermediate * h + h);
  return c.vocab * h + (s.contextLength ?? 1024) * h + c.layers * layer + 2 * h + (s.tiedEmbeddings ? 0 : c.vocab * h);
};

/** BERT/RoBERTa encoder with embeddings LayerNorm and pooler (the task head is not counted). */
const bertEncoder: Counter = (s, config) => {
  const c = core(s);
  if (!c) return undefined;
  const h = c.hidden;
  const types = n(config, 'type_vocab_size') ?? 2;
  const emb = c.vocab * h + (s.contextLength ?? 512) * h + types * h + 2 * h;
  const layer = 4 * (h * h + h) + 2 * h + (h * c.intermediate + c.intermediate) + (c.intermediate * h + h) + 2 * h;
  return emb + c.layers * layer + (h * h + h);
};

/** T5: shared embedding, relative position buckets in the first layer, no biases; gated FFN for v1.1/flan. */
const t5: Counter = (s, config) => {
  const c = core(s);
  if (!c) return undefined;
  const d = c.hidden;
  const inner = c.heads * c.headDim;
  const gated = typeof config.feed_forward_proj === 'string' && config.feed_forward_proj.startsWith('gated');
  const ffn = (gated ? 3 : 2) * d * c.intermediate;
  const attention = 4 * d * inner;
  const buckets = (n(config, 'relative_attention_num_buckets') ?? 32) * c.heads;
  const encoder = c.layers * (attention + ffn + 2 * d) + buckets + d;
  const decoder = (s.decoderLayers ?? c.layers) * (2 * attention + ffn + 3 * d) + buckets + d;
  return c.vocab * d * (s.tiedEmbeddings ? 1 : 2) + encoder + decoder;
};

/** Falcon: fused QKV (multi-query or grouped), parallel attention, 4x MLP without gate. */
const falcon: Counter = (s, config) => {
  const c = core(s);
  if (!c) return undefined;
  const h = c.hidden;
  const bias = config.bias === true;
  const qkv = h * (c.heads + 2 * c.kvHeads) * c.headDim + (bias ? (c.heads + 2 * c.kvHeads) * c.headDim : 0);
  const dense = h * h + (bias ? h : 0);
  const mlp = 2 * h * c.intermediate + (bias ? c.intermediate + h : 0);
  const newArch = config.new_decoder_architecture === true;
  const lnCount = newArch ? (n(config, 'num_ln_in_parallel_attn') ?? 2) : config.parallel_attn === false ? 2 : 1;
  return c.vocab * h * (s.tiedEmbeddings ? 1 : 2) + c.layers * (qkv + dense + mlp + 2 * h * lnCount) + 2 * h;
};

/** Phi-1/1.5/2: biased projections, one LayerNorm per block (parallel attention), biased LM head. */
const phi: Counter = (s) => {
  const c = core(s);
  if (!c) return undefined;
  const h = c.hidden;
  const q = c.heads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const attention = h * q + q + 2 * (h * kv + kv) + q * h + h;
  const mlp = h * c.intermediate + c.intermediate + c.intermediate * h + h;
  return c.vocab * h + c.layers * (attention + mlp + 2 * h) + 2 * h + (s.tiedEmbeddings ? 0 : c.vocab * h + c.vocab);
};

/** DeepSeek-V2/V3: multi-head latent attention, dense first layers then routed + shared experts. Totals count every expert. */
const deepseek: Counter = (s, config) => {
  const c = core(s);
  if (!c || !s.mla) return undefined;
  const h = c.hidden;
  const m = s.mla;
  const qHead = m.qkNopeHeadDim + m.qkRopeHeadDim;
  const q = m.qLoraRank ? h * m.qLoraRank + m.qLoraRank + m.qLoraRank * c.heads * qHead : h * c.heads * qHead;
  const attention = q + h * (m.kvLoraRank + m.qkRopeHeadDim) + m.kvLoraRank + m.kvLoraRank * c.heads * (m.qkNopeHeadDim + m.vHeadDim) + c.heads * m.vHeadDim * h;
  const experts = n(config, 'n_routed_experts') ?? 0;
  const expertSize = n(config, 'moe_intermediate_size') ?? c.intermediate;
  const shared = n(config, 'n_shared_experts') ?? 0;
  const firstDense = n(config, 'first_k_dense_replace') ?? 0;
  const frequency = n(config, 'moe_layer_freq') ?? 1;
  const scoreBias = config.topk_method === 'noaux_tc' ? experts : 0;
  let total = embeddings(c.vocab, h, s.tiedEmbeddings) + h;
  for (let layer = 0; layer < c.layers; layer++) {
    const moe = experts > 0 && layer >= firstDense && layer % frequency === 0;
    const mlp = moe ? experts * 3 * h * expertSize + 3 * h * expertSize * shared + experts * h + scoreBias : 3 * h * c.intermediate;
    total += attention + mlp + 2 * h;
  }
  return total;
};

/** The formula of each family (`model_type`), checked by the compiler against the counter type. */
export const PARAMETER_COUNTERS = {
  llama: llamaDecoder, mistral: llamaDecoder, mixtral: llamaDecoder, qwen2: llamaDecoder, qwen2_moe: llamaDecoder,
  qwen3: llamaDecoder, qwen3_moe: llamaDecoder, gemma: llamaDecoder, gemma2: llamaDecoder,
  gpt2,
  bert: bertEncoder, roberta: bertEncoder, xlm_roberta: bertEncoder,
  t5, mt5: t5,
  falcon, refinedweb: falcon, refinedwebmodel: falcon,
  phi,
  deepseek_v2: deepseek, deepseek_v3: deepseek,
} as const satisfies Record<string, Counter>;

export type ParameterFamily = keyof typeof PARAMETER_COUNTERS;

/**
 * Counts parameters from a config. Unknown families with a llama-like shape are counted as a
 * llama-style decoder and say so in `method`; undefined when the config lacks the needed sizes.
 */
export function countParametersFromConfig(config: HfConfig): ConfigParameterCount | undefined {
  const shape = transformerShape(config);
  const counter = (PARAMETER_COUNTERS as Record<string, Counter>)[shape.family] ?? (shape.mla ? deepseek : undefined);
  if (counter) {
    const parameters = counter(shape, config.text_config && typeof config.text_config === 'object' ? (config.text_config as HfConfig) : config);
    return parameters === undefined ? undefined : { parameters: Math.round(parameters), method: `config:${shape.family}` };
  }
  const parameters = llamaDecoder(shape, config);
  return parameters === undefined ? undefined : { parameters: Math.round(parameters), method: 'config:generic-decoder' };
}
