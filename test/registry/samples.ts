/**
 * Model records the registry tests share: a generated series, and a small hand-made catalogue
 * whose every filter answer is written out by hand in the tests.
 */
import type { MemoryEstimate, ModelMetadataInput } from '../../src/index.js';

/** The i-th generated model; ids are unique for every i. */
export function sampleModel(i: number, extra: Partial<ModelMetadataInput> = {}): ModelMetadataInput {
  return {
    modelId: `org${i % 7}/model-${i}`,
    modelType: i % 2 ? 'decoder_only' : 'embedding_model',
    architecture: i % 2 ? 'LlamaForCausalLM' : 'BertModel',
    tags: i % 3 ? ['a', 'b'] : ['a'],
    description: `sample model number ${i}`,
    parameterCount: (i + 1) * 1_000_000,
    attentionType: i % 2 ? 'gqa' : 'mha',
    format: i % 2 ? 'gguf' : 'onnx',
    inputs: [{ name: 'text', dataType: 'TEXT' }],
    outputs: [{ name: 'out', dataType: i % 2 ? 'TOKENS' : 'EMBEDDINGS' }],
    ...extra,
  };
}

const GB = 1_000_000_000;

function estimate(totalBytes: number): MemoryEstimate {
  return { weightsBytes: totalBytes, kvCacheBytesPerToken: 0, totalBytes, context: 4096, batch: 1, dtype: 'f16', method: 'test' };
}

const text = { name: 'text', dataType: 'TEXT' } as const;
const tokens = { name: 'tokens', dataType: 'TOKENS' } as const;
const embeddings = { name: 'embeddings', dataType: 'EMBEDDINGS' } as const;

/** Eight models that differ in every filtered field. */
export const CATALOGUE: ModelMetadataInput[] = [
  {
    modelId: 'meta/llama-7b', modelType: 'decoder_only', architecture: 'LlamaForCausalLM', tags: ['chat', 'llm'],
    inputs: [text], outputs: [tokens], attentionType: 'gqa', format: 'gguf', source: 'huggingface',
    parameterCount: 7 * GB, contextLength: 4096, memoryEstimate: estimate(8 * GB), description: 'a small llama for chat',
    localPath: '/srv/models/llama-7b',
  },
  {
    modelId: 'meta/llama-70b', modelType: 'decoder_only', architecture: 'LlamaForCausalLM', tags: ['llm'],
    inputs: [text], outputs: [tokens], attentionType: 'gqa', format: 'safetensors', source: 'huggingface',
    parameterCount: 70 * GB, contextLength: 8192, memoryEstimate: estimate(140 * GB), description: 'a large llama',
    localPath: '/srv/models/llama-70b',
  },
  {
    modelId: 'mistralai/mistral-7b', modelType: 'decoder_only', architecture: 'MistralForCausalLM', tags: ['chat', 'fast', 'llm'],
    inputs: [text], outputs: [tokens], attentionType: 'gqa', format: 'gguf', source: 'manual',
    parameterCount: 7_200_000_000, contextLength: 32768, memoryEstimate: estimate(7.5 * GB), description: 'sliding window attention',
  },
  {
    modelId: 'google/bert-base', modelType: 'encoder_only', architecture: 'BertModel', tags: ['embedding'],
    inputs: [text], outputs: [embeddings], attentionType: 'mha', format: 'onnx', source: 'discovered',
    parameterCount: 110_000_000, contextLength: 512, memoryEstimate: estimate(0.5 * GB), description: 'sentence vectors',
  },
  {
    modelId: 'openai/clip', modelType: 'multimodal', architecture: 'CLIPModel', tags: ['embedding', 'vision'],
    inputs: [{ name: 'image', dataType: 'IMAGE' }, text], outputs: [embeddings], attentionType: 'mha', format: 'safetensors',
    source: 'huggingface', parameterCount: 150_000_000, contextLength: 77, description: 'images and text in one space',
  },
  {
    modelId: 'openai/whisper', modelType: 'audio_model', architecture: 'WhisperForConditionalGeneration', tags: ['speech'],
    inputs: [{ name: 'audio', dataType: 'AUDIO' }], outputs: [text], attentionType: 'mha', format: 'pytorch', source: 'static',
    parameterCount: 1_500_000_000, memoryEstimate: estimate(3 * GB), description: 'speech to text',
  },
  {
    modelId: 'deepseek/v3', modelType: 'decoder_only', architecture: 'DeepseekV3ForCausalLM', tags: ['llm', 'moe'],
    inputs: [text], outputs: [tokens], attentionType: 'mla', format: 'safetensors', source: 'huggingface',
    parameterCount: 671 * GB, contextLength: 131072, memoryEstimate: estimate(1300 * GB), description: 'mixture of experts',
  },
  { modelId: 'local/mystery', modelType: 'language_model', description: 'nothing known about it' },
];

/** Models that match "zephyrine" in the name, a tag, a tag's word prefix, and the description. */
export const SEARCH_SET: ModelMetadataInput[] = [
  { modelId: 'search/described', modelType: 'decoder_only', description: 'works like zephyrine does', tags: ['other'] },
  { modelId: 'search/tagged', modelType: 'decoder_only', description: 'plain', tags: ['zephyrine'] },
  { modelId: 'search/zephyrine-1', modelType: 'decoder_only', description: 'plain', tags: ['other'] },
  { modelId: 'search/tag-prefix', modelType: 'decoder_only', description: 'zephyr wind', tags: ['zephyrines-not'] },
  { modelId: 'search/none', modelType: 'decoder_only', description: 'no match here', tags: ['zeph-yrine'] },
];

/** A model kept by a store of an earlier schema, which lacked its labels in search and its localPath and access columns. */
export const EARLIER_SCHEMA_MODEL = {
  modelId: 'local/enc-2', modelType: 'encoder_only', architecture: 'BertForMaskedLM', localPath: '/srv/models/enc-2',
  accessLevel: 'restricted', groups: ['lab'],
} as const satisfies ModelMetadataInput;
