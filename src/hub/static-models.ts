/**
 * The static model definitions (the seed's static MODEL_DICT): well-known models whose published
 * `config.json` ships with Model Manager, so `mm sync --static` registers them, sized, with no
 * download. Configs as published on huggingface.co.
 */
import type { HfConfig } from '../estimate/index.js';

export interface StaticModelDefinition {
  modelId: string;
  /** The model's `config.json` as published. */
  config: HfConfig;
}

export const STATIC_MODELS: readonly StaticModelDefinition[] = [
  {
    modelId: 'meta-llama/Llama-3.1-8B',
    config: {
      architectures: [
        'LlamaForCausalLM'
      ],
      attention_bias: false,
      attention_dropout: 0,
      bos_token_id: 128000,
      eos_token_id: 128001,
      hidden_act: 'silu',
      hidden_size: 4096,
      initializer_range: 0.02,
      intermediate_size: 14336,
      max_position_embeddings: 131072,
      mlp_bias: false,
      model_type: 'llama',
      num_attention_heads: 32,
      num_hidden_layers: 32,
      num_key_value_heads: 8,
      pretraining_tp: 1,
      rms_norm_eps: 0.00001,
      rope_scaling: {
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
        rope_type: 'llama3'
      },
      rope_theta: 500000,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      transformers_version: '4.43.0.dev0',
      use_cache: true,
      vocab_size: 128256
    },
  },
  {
    modelId: 'mistralai/Mistral-7B-v0.1',
    config: {
      architectures: [
        'MistralForCausalLM'
      ],
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: 'silu',
      hidden_size: 4096,
      initializer_range: 0.02,
      intermediate_size: 14336,
      max_position_embeddings: 32768,
      model_type: 'mistral',
      num_attention_heads: 32,
      num_hidden_layers: 32,
      num_key_value_heads: 8,
      rms_norm_eps: 0.00001,
      rope_theta: 10000,
      sliding_window: 4096,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      transformers_version: '4.34.0.dev0',
      use_cache: true,
      vocab_size: 32000
    },
  },
  {
    modelId: 'mistralai/Mixtral-8x7B-v0.1',
    config: {
      architectures: [
        'MixtralForCausalLM'
      ],
      attention_dropout: 0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: 'silu',
      hidden_size: 4096,
      initializer_range: 0.02,
      intermediate_size: 14336,
      max_position_embeddings: 32768,
      model_type: 'mixtral',
      num_attention_heads: 32,
      num_experts_per_tok: 2,
      num_hidden_layers: 32,
      num_key_value_heads: 8,
      num_local_experts: 8,
      output_router_logits: false,
      rms_norm_eps: 0.00001,
      rope_theta: 1000000,
      router_aux_loss_coef: 0.02,
      sliding_window: null,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      transformers_version: '4.36.0.dev0',
      use_cache: true,
      vocab_size: 32000
    },
  },
  {
    modelId: 'Qwen/Qwen2-7B',
    config: {
      architectures: [
        'Qwen2ForCausalLM'
      ],
      attention_dropout: 0,
      bos_token_id: 151643,
      eos_token_id: 151643,
      hidden_act: 'silu',
      hidden_size: 3584,
      initializer_range: 0.02,
      intermediate_size: 18944,
      max_position_embeddings: 131072,
      max_window_layers: 28,
      model_type: 'qwen2',
      num_attention_heads: 28,
      num_hidden_layers: 28,
      num_key_value_heads: 4,
      rms_norm_eps: 0.000001,
      rope_theta: 1000000,
      sliding_window: 131072,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      transformers_version: '4.37.2',
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 152064
    },
  },
  {
    modelId: 'google/gemma-7b',
    config: {
      architectures: [
        'GemmaForCausalLM'
      ],
      attention_bias: false,
      attention_dropout: 0,
      bos_token_id: 2,
      eos_token_id: 1,
      head_dim: 256,
      hidden_act: 'gelu',
      hidden_size: 3072,
      initializer_range: 0.02,
      intermediate_size: 24576,
      max_position_embeddings: 8192,
      model_type: 'gemma',
      num_attention_heads: 16,
      num_hidden_layers: 28,
      num_key_value_heads: 16,
      pad_token_id: 0,
      rms_norm_eps: 0.000001,
      rope_scaling: null,
      rope_theta: 10000,
      torch_dtype: 'bfloat16',
      transformers_version: '4.38.0.dev0',
      use_cache: true,
      vocab_size: 256000
    },
  },
  {
    modelId: 'google/gemma-2b',
    config: {
      architectures: [
        'GemmaForCausalLM'
      ],
      attention_bias: false,
      attention_dropout: 0,
      bos_token_id: 2,
      eos_token_id: 1,
      head_dim: 256,
      hidden_act: 'gelu',
      hidden_size: 2048,
      initializer_range: 0.02,
      intermediate_size: 16384,
      max_position_embeddings: 8192,
      model_type: 'gemma',
      num_attention_heads: 8,
      num_hidden_layers: 18,
      num_key_value_heads: 1,
      pad_token_id: 0,
      rms_norm_eps: 0.000001,
      rope_scaling: null,
      rope_theta: 10000,
      torch_dtype: 'bfloat16',
      transformers_version: '4.38.0.dev0',
      use_cache: true,
      vocab_size: 256000
    },
  },
  {
    modelId: 'google/gemma-2-9b',
    config: {
      architectures: [
        'Gemma2ForCausalLM'
      ],
      attention_bias: false,
      attention_dropout: 0,
      attn_logit_softcapping: 50,
      bos_token_id: 2,
      cache_implementation: 'hybrid',
      eos_token_id: 1,
      final_logit_softcapping: 30,
      head_dim: 256,
      hidden_act: 'gelu_pytorch_tanh',
      hidden_activation: 'gelu_pytorch_tanh',
      hidden_size: 3584,
      initializer_range: 0.02,
      intermediate_size: 14336,
      max_position_embeddings: 8192,
      model_type: 'gemma2',
      num_attention_heads: 16,
      num_hidden_layers: 42,
      num_key_value_heads: 8,
      pad_token_id: 0,
      query_pre_attn_scalar: 256,
      rms_norm_eps: 0.000001,
      rope_theta: 10000,
      sliding_window: 4096,
      sliding_window_size: 4096,
      torch_dtype: 'float32',
      transformers_version: '4.42.0.dev0',
      use_cache: true,
      vocab_size: 256000
    },
  },
  {
    modelId: 'openai-community/gpt2',
    config: {
      activation_function: 'gelu_new',
      architectures: [
        'GPT2LMHeadModel'
      ],
      attn_pdrop: 0.1,
      bos_token_id: 50256,
      embd_pdrop: 0.1,
      eos_token_id: 50256,
      initializer_range: 0.02,
      layer_norm_epsilon: 0.00001,
      model_type: 'gpt2',
      n_ctx: 1024,
      n_embd: 768,
      n_head: 12,
      n_layer: 12,
      n_positions: 1024,
      resid_pdrop: 0.1,
      summary_activation: null,
      summary_first_dropout: 0.1,
      summary_proj_to_labels: true,
      summary_type: 'cls_index',
      summary_use_proj: true,
      task_specific_params: {
        'text-generation': {
          do_sample: true,
          max_length: 50
        }
      },
      vocab_size: 50257
    },
  },
  {
    modelId: 'google-bert/bert-base-uncased',
    config: {
      architectures: [
        'BertForMaskedLM'
      ],
      attention_probs_dropout_prob: 0.1,
      gradient_checkpointing: false,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: 768,
      initializer_range: 0.02,
      intermediate_size: 3072,
      layer_norm_eps: 1e-12,
      max_position_embeddings: 512,
      model_type: 'bert',
      num_attention_heads: 12,
      num_hidden_layers: 12,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
      transformers_version: '4.6.0.dev0',
      type_vocab_size: 2,
      use_cache: true,
      vocab_size: 30522
    },
  },
  {
    modelId: 'FacebookAI/roberta-base',
    config: {
      architectures: [
        'RobertaForMaskedLM'
      ],
      attention_probs_dropout_prob: 0.1,
      bos_token_id: 0,
      eos_token_id: 2,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: 768,
      initializer_range: 0.02,
      intermediate_size: 3072,
      layer_norm_eps: 0.00001,
      max_position_embeddings: 514,
      model_type: 'roberta',
      num_attention_heads: 12,
      num_hidden_layers: 12,
      pad_token_id: 1,
      type_vocab_size: 1,
      vocab_size: 50265
    },
  },
  {
    modelId: 'google-t5/t5-small',
    config: {
      architectures: [
        'T5ForConditionalGeneration'
      ],
      d_ff: 2048,
      d_kv: 64,
      d_model: 512,
      decoder_start_token_id: 0,
      dropout_rate: 0.1,
      eos_token_id: 1,
      initializer_factor: 1,
      is_encoder_decoder: true,
      layer_norm_epsilon: 0.000001,
      model_type: 't5',
      n_positions: 512,
      num_heads: 8,
      num_layers: 6,
      output_past: true,
      pad_token_id: 0,
      relative_attention_num_buckets: 32,
      task_specific_params: {
        summarization: {
          early_stopping: true,
          length_penalty: 2,
          max_length: 200,
          min_length: 30,
          no_repeat_ngram_size: 3,
          num_beams: 4,
          prefix: 'summarize: '
        },
        translation_en_to_de: {
          early_stopping: true,
          max_length: 300,
          num_beams: 4,
          prefix: 'translate English to German: '
        },
        translation_en_to_fr: {
          early_stopping: true,
          max_length: 300,
          num_beams: 4,
          prefix: 'translate English to French: '
        },
        translation_en_to_ro: {
          early_stopping: true,
          max_length: 300,
          num_beams: 4,
          prefix: 'translate English to Romanian: '
        }
      },
      vocab_size: 32128
    },
  },
  {
    modelId: 'tiiuae/falcon-7b',
    config: {
      alibi: false,
      apply_residual_connection_post_layernorm: false,
      architectures: [
        'FalconForCausalLM'
      ],
      attention_dropout: 0,
      bias: false,
      bos_token_id: 11,
      eos_token_id: 11,
      hidden_dropout: 0,
      hidden_size: 4544,
      initializer_range: 0.02,
      layer_norm_epsilon: 0.00001,
      model_type: 'falcon',
      multi_query: true,
      new_decoder_architecture: false,
      num_attention_heads: 71,
      num_hidden_layers: 32,
      parallel_attn: true,
      torch_dtype: 'bfloat16',
      transformers_version: '4.27.4',
      vocab_size: 65024
    },
  },
  {
    modelId: 'microsoft/phi-2',
    config: {
      _name_or_path: 'microsoft/phi-2',
      architectures: [
        'PhiForCausalLM'
      ],
      attention_dropout: 0,
      bos_token_id: 50256,
      embd_pdrop: 0,
      eos_token_id: 50256,
      hidden_act: 'gelu_new',
      hidden_size: 2560,
      initializer_range: 0.02,
      intermediate_size: 10240,
      layer_norm_eps: 0.00001,
      max_position_embeddings: 2048,
      model_type: 'phi',
      num_attention_heads: 32,
      num_hidden_layers: 32,
      num_key_value_heads: 32,
      partial_rotary_factor: 0.4,
      qk_layernorm: false,
      resid_pdrop: 0.1,
      rope_scaling: null,
      rope_theta: 10000,
      tie_word_embeddings: false,
      torch_dtype: 'float16',
      transformers_version: '4.37.0',
      use_cache: true,
      vocab_size: 51200
    },
  },
  {
    modelId: 'deepseek-ai/DeepSeek-V2-Lite',
    config: {
      architectures: [
        'DeepseekV2ForCausalLM'
      ],
      attention_bias: false,
      attention_dropout: 0,
      auto_map: {
        AutoConfig: 'configuration_deepseek.DeepseekV2Config',
        AutoModel: 'modeling_deepseek.DeepseekV2Model',
        AutoModelForCausalLM: 'modeling_deepseek.DeepseekV2ForCausalLM'
      },
      aux_loss_alpha: 0.001,
      bos_token_id: 100000,
      eos_token_id: 100001,
      first_k_dense_replace: 1,
      hidden_act: 'silu',
      hidden_size: 2048,
      initializer_range: 0.02,
      intermediate_size: 10944,
      kv_lora_rank: 512,
      max_position_embeddings: 163840,
      model_type: 'deepseek_v2',
      moe_intermediate_size: 1408,
      moe_layer_freq: 1,
      n_group: 1,
      n_routed_experts: 64,
      n_shared_experts: 2,
      norm_topk_prob: false,
      num_attention_heads: 16,
      num_experts_per_tok: 6,
      num_hidden_layers: 27,
      num_key_value_heads: 16,
      pretraining_tp: 1,
      q_lora_rank: null,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      rms_norm_eps: 0.000001,
      rope_scaling: {
        beta_fast: 32,
        beta_slow: 1,
        factor: 40,
        mscale: 0.707,
        mscale_all_dim: 0.707,
        original_max_position_embeddings: 4096,
        type: 'yarn'
      },
      rope_theta: 10000,
      routed_scaling_factor: 1,
      scoring_func: 'softmax',
      seq_aux: true,
      tie_word_embeddings: false,
      topk_group: 1,
      topk_method: 'greedy',
      torch_dtype: 'bfloat16',
      transformers_version: '4.33.1',
      use_cache: true,
      v_head_dim: 128,
      vocab_size: 102400
    },
  },
];
