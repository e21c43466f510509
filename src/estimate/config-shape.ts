/**
 * One view of a transformer's shape over the many spellings of Hugging Face configs
 * (`num_hidden_layers` / `n_layer` / `num_layers`, `hidden_size` / `n_embd` / `d_model`, ...).
 * Multimodal configs keep the language model under `text_config`; that is the part sized here.
 */

/** A Hugging Face `config.json`, as parsed. */
export type HfConfig = Record<string, unknown>;

export interface MlaShape {
  kvLoraRank: number;
  qLoraRank?: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
}

export interface TransformerShape {
  /** `model_type`, lower case ('' when absent). */
  family: string;
  layers?: number;
  /** Decoder layers of an encoder-decoder (T5's `num_decoder_layers`). */
  decoderLayers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  intermediate?: number;
  vocab?: number;
  tiedEmbeddings: boolean;
  contextLength?: number;
  /** Tokens each sliding-window layer keeps; with `slidingLayers` of the layers using it. */
  slidingWindow?: number;
  slidingLayers?: number;
  mla?: MlaShape;
  encoderDecoder: boolean;
  /** The dtype the weights were published in (`torch_dtype` / `dtype`). */
  torchDtype?: string;
}

/** Config classes of transformers whose `tie_word_embeddings` defaults to false (the base default is true). */
const UNTIED_BY_DEFAULT = new Set([
  'llama', 'mistral', 'mixtral', 'qwen2', 'qwen2_moe', 'qwen3', 'qwen3_moe', 'phi', 'phi3', 'deepseek_v2', 'deepseek_v3',
  'olmo', 'olmo2', 'granite', 'cohere', 'starcoder2', 'gpt_neox',
]);

/** Context lengths of families whose config leaves `max_position_embeddings` to the class default. */
const DEFAULT_CONTEXT: Record<string, number> = { falcon: 2048, gpt2: 1024, bert: 512, roberta: 514 };

function num(config: HfConfig, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  }
  return undefined;
}

/**
 * Layers that use the sliding window when the config has no `layer_types`: Gemma 2 alternates
 * local and global layers, Gemma 3 has `sliding_window_pattern - 1` local layers per global one;
 * others (Mistral) use it everywhere.
 */
function slidingLayerCount(family: string, layers: number, config: HfConfig): number {
  if (family === 'gemma2') return Math.ceil(layers / 2);
  if (family.startsWith('gemma3')) {
    const pattern = num(config, 'sliding_window_pattern') ?? 6;
    return layers - Math.floor(layers / pattern);
  }
  return layers;
}

/** The language-model part of a config: `text_config` when present (llava, gemma3, qwen2-vl...). */
export function languageConfig(config: HfConfig): HfConfig {
  const text = config.text_config ?? config.llm_config;
  if (text && typeof text === 'object' && !Array.isArray(text)) return { ...(text as HfConfig), torch_dtype: (text as HfConfig).torch_dtype ?? config.torch_dtype };
  return config;
}

/** Reads the shape of a config; fields it cannot find stay undefined. */
export function transformerShape(fullConfig: HfConfig): TransformerShape {
  const config = languageConfig(fullConfig);
  const family = typeof config.model_type === 'string' ? config.model_type.toLowerCase() : '';
  const layers = num(config, 'num_hidden_layers', 'n_layer', 'num_layers', 'n_layers');
  const hidden = num(config, 'hidden_size', 'n_embd', 'd_model', 'dim');
  const heads = num(config, 'num_attention_heads', 'n_head', 'num_heads', 'n_heads');
  const multiQuery = config.multi_query === true && config.new_decoder_architecture !== true;
  const kvHeads = multiQuery ? 1 : (num(config, 'num_key_value_heads', 'num_kv_heads', 'n_head_kv', 'multi_query_group_num') ?? heads);
  const headDim = num(config, 'head_dim', 'd_kv') ?? (hidden !== undefined && heads ? hidden / heads : undefined);
  const intermediate = num(config, 'intermediate_size', 'n_inner', 'd_ff', 'ffn_dim', 'ffn_hidden_size') ?? (hidden === undefined ? undefined : 4 * hidden);
  const tie = config.tie_word_embeddings;
  const kvLoraRank = num(config, 'kv_lora_rank');
  const mla: MlaShape | undefined =
    kvLoraRank !== undefined || num(config, 'q_lora_rank') !== undefined
      ? {
          kvLoraRank: kvLoraRank ?? 0,
          qLoraRank: num(config, 'q_lora_rank'),
          qkNopeHeadDim: num(config, 'qk_nope_head_dim') ?? 0,
          qkRopeHeadDim: num(config, 'qk_rope_head_dim') ?? 0,
          vHeadDim: num(config, 'v_head_dim') ?? headDim ?? 0,
        }
      : undefined;
  const shape: TransformerShape = {
    family,
    layers,
    decoderLayers: num(config, 'num_decoder_layers') ?? (config.is_encoder_decoder === true || family === 't5' ? layers : undefined),
    hidden,
    heads,
    kvHeads,
    headDim,
    intermediate,
    vocab: num(config, 'vocab_size', 'padded_vocab_size'),
    tiedEmbeddings: typeof tie === 'boolean' ? tie : !UNTIED_BY_DEFAULT.has(family),
    contextLength: num(config, 'max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length', 'n_ctx') ?? DEFAULT_CONTEXT[family],
    mla,
    encoderDecoder: config.is_encoder_decoder === true || family === 't5' || family === 'mt5' || family === 'bart',
    torchDtype: typeof config.torch_dtype === 'string' ? config.torch_dtype : typeof config.dtype === 'string' ? config.dtype : undefined,
  };
  const window = num(config, 'sliding_window');
  if (window !== undefined && window > 0 && config.use_sliding_window !== false) {
    const types = Array.isArray(config.layer_types) ? config.layer_types : undefined;
    const sliding = types ? types.filter((t) => t === 'sliding_attention').length : layers === undefined ? undefined : slidingLayerCount(family, layers, config);
    if (sliding && sliding > 0) {
      shape.slidingWindow = window;
      shape.slidingLayers = sliding;
    }
  }
  return shape;
}
