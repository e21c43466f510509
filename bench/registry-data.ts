/**
 * Generated model records of realistic variety for the registry benchmark, reproducible by seed.
 */
import type { ModelFilter, ModelMetadataInput } from '../src/index.js';

/** A small deterministic PRNG (mulberry32), so every run and every store sees the same records. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

const FAMILIES = [
  { name: 'llama', arch: 'LlamaForCausalLM', type: 'decoder_only', attention: 'gqa', out: 'TOKENS' },
  { name: 'mistral', arch: 'MistralForCausalLM', type: 'decoder_only', attention: 'gqa', out: 'TOKENS' },
  { name: 'qwen', arch: 'Qwen2ForCausalLM', type: 'decoder_only', attention: 'gqa', out: 'TOKENS' },
  { name: 'gemma', arch: 'GemmaForCausalLM', type: 'decoder_only', attention: 'mqa', out: 'TOKENS' },
  { name: 'phi', arch: 'PhiForCausalLM', type: 'decoder_only', attention: 'mha', out: 'TOKENS' },
  { name: 'deepseek', arch: 'DeepseekV3ForCausalLM', type: 'decoder_only', attention: 'mla', out: 'TOKENS' },
  { name: 'falcon', arch: 'FalconForCausalLM', type: 'decoder_only', attention: 'mqa', out: 'TOKENS' },
  { name: 'bert', arch: 'BertModel', type: 'encoder_only', attention: 'mha', out: 'EMBEDDINGS' },
  { name: 'bge', arch: 'XLMRobertaModel', type: 'embedding_model', attention: 'mha', out: 'EMBEDDINGS' },
  { name: 'e5', arch: 'BertModel', type: 'embedding_model', attention: 'mha', out: 'EMBEDDINGS' },
  { name: 't5', arch: 'T5ForConditionalGeneration', type: 'encoder_decoder', attention: 'mha', out: 'TEXT' },
  { name: 'clip', arch: 'CLIPModel', type: 'multimodal', attention: 'mha', out: 'EMBEDDINGS' },
  { name: 'whisper', arch: 'WhisperForConditionalGeneration', type: 'audio_model', attention: 'mha', out: 'TEXT' },
  { name: 'vit', arch: 'ViTModel', type: 'vision_model', attention: 'mha', out: 'FEATURES' },
] as const;

const ORGS = ['meta', 'mistralai', 'qwen', 'google', 'microsoft', 'deepseek-ai', 'tiiuae', 'baai', 'intfloat', 'openai', 'thebloke', 'nousresearch', 'unsloth', 'bartowski', 'local'];
const SIZES = [0.1, 0.35, 0.5, 1, 1.5, 3, 7, 8, 13, 14, 32, 70, 72, 405];
const VARIANTS = ['base', 'instruct', 'chat', 'code', 'math', 'q4', 'q8', 'awq', 'gptq', 'sft', 'dpo', 'v2'];
const FORMATS = ['safetensors', 'gguf', 'onnx', 'pytorch'] as const;
const SOURCES = ['huggingface', 'discovered', 'manual', 'static'] as const;
export const TAGS = ['chat', 'code', 'math', 'multilingual', 'rag', 'long-context', 'vision', 'audio', 'embedding', 'reasoning',
  'tool-use', 'quantized', 'fine-tuned', 'research', 'production', 'experimental', 'english', 'chinese', 'medical', 'legal'];
const WORDS = ['fast', 'accurate', 'small', 'large', 'efficient', 'model', 'trained', 'on', 'web', 'data', 'for', 'instruction',
  'following', 'retrieval', 'summarization', 'translation', 'question', 'answering', 'classification', 'distilled', 'sparse',
  'mixture', 'experts', 'sliding', 'window', 'attention', 'rotary', 'embeddings', 'context', 'tokens', 'quantised', 'weights',
  'benchmark', 'leaderboard', 'open', 'license', 'research', 'release', 'community', 'merge'];

/** The i-th generated model record. */
export function benchModel(i: number, rnd: () => number): ModelMetadataInput {
  const family = pick(rnd, FAMILIES);
  const size = pick(rnd, SIZES);
  const variant = pick(rnd, VARIANTS);
  const parameterCount = Math.round(size * 1e9 * (0.9 + rnd() * 0.2));
  const tags = [...new Set([pick(rnd, TAGS), pick(rnd, TAGS), pick(rnd, TAGS)])];
  const words = Array.from({ length: 8 + Math.floor(rnd() * 8) }, () => pick(rnd, WORDS));
  const model: ModelMetadataInput = {
    modelId: `${pick(rnd, ORGS)}/${family.name}-${size}b-${variant}-${i}`,
    modelType: family.type,
    architecture: family.arch,
    description: `${family.name} ${variant} ${words.join(' ')}`,
    tags,
    attentionType: family.attention,
    format: pick(rnd, FORMATS),
    source: pick(rnd, SOURCES),
    parameterCount,
    contextLength: pick(rnd, [512, 2048, 4096, 8192, 32768, 131072]),
    inputs: [{ name: 'input', dataType: family.type === 'audio_model' ? 'AUDIO' : family.type === 'vision_model' ? 'IMAGE' : 'TEXT' }],
    outputs: [{ name: 'output', dataType: family.out }],
    license: pick(rnd, ['apache-2.0', 'mit', 'llama3', 'other']),
  };
  if (rnd() < 0.8) {
    const weightsBytes = Math.round(parameterCount * pick(rnd, [0.5, 1, 2]));
    model.memoryEstimate = {
      weightsBytes, kvCacheBytesPerToken: 131072, totalBytes: Math.round(weightsBytes * 1.1), context: 4096, batch: 1, dtype: 'f16', method: 'bench',
    };
  }
  return model;
}

/** A three-field filter of the kind people type: type, format and a minimum size; first 50 rows. */
export function benchFilter(rnd: () => number): ModelFilter {
  return {
    modelType: pick(rnd, ['decoder_only', 'embedding_model', 'encoder_only', 'multimodal']),
    format: pick(rnd, FORMATS),
    minParams: pick(rnd, [1e8, 1e9, 7e9, 3e10]),
    limit: 50,
  };
}

/** A search text: a family, a family and a tag, or a description word. */
export function benchSearch(rnd: () => number): string {
  const r = rnd();
  if (r < 0.4) return pick(rnd, FAMILIES).name;
  if (r < 0.8) return `${pick(rnd, FAMILIES).name} ${pick(rnd, TAGS)}`;
  return pick(rnd, WORDS.slice(10, 30));
}
