import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModelFromHuggingFace, isModelManagerError, parseModelCard } from '../../src/index.js';
import { fixtureConfig } from './model-files.js';

describe('createModelFromHuggingFace', () => {
  it('takes the seed example (a partial BERT config) and fills what it can', () => {
    const warnings: string[] = [];
    const model = createModelFromHuggingFace('bert-base-uncased', { architectures: ['BertForMaskedLM'], model_type: 'bert', vocab_size: 30522, hidden_size: 768 }, {
      inferenceCodeLocation: '/path/to/bert_inference.py', warnings,
    });
    assert.equal(model.modelType, 'encoder_only');
    assert.equal(model.architecture, 'BertForMaskedLM');
    assert.equal(model.inferenceCodeLocation, '/path/to/bert_inference.py');
    assert.equal(model.source, 'huggingface');
    assert.equal(model.parameterCount, undefined, 'too few sizes to count');
    assert.ok(warnings.some((w) => /lacks the sizes/.test(w)));
    assert.deepEqual(model.huggingfaceConfig, { architectures: ['BertForMaskedLM'], model_type: 'bert', vocab_size: 30522, hidden_size: 768 });
  });

  it('derives a decoder-only LLM: type, modalities, I/O, attention, context, parameters, estimate', () => {
    const model = createModelFromHuggingFace('meta-llama/Llama-3.1-8B', fixtureConfig('meta-llama--Llama-3.1-8B'));
    assert.equal(model.modelType, 'decoder_only');
    assert.deepEqual(model.modalities, ['text']);
    assert.equal(model.attentionType, 'gqa');
    assert.equal(model.contextLength, 131072);
    assert.equal(model.parameterCount, 8_030_261_248);
    assert.equal(model.author, 'meta-llama');
    assert.deepEqual(model.inputs.map((i) => [i.name, i.dataType]), [['input_ids', 'TOKENS'], ['attention_mask', 'TOKENS']]);
    assert.deepEqual(model.outputs[0]?.shape, ['batch', 'sequence', 128256]);
    assert.ok(model.capabilities.includes('text_generation'));
    assert.equal(model.memoryEstimate?.kvCacheBytesPerToken, 131072);
    assert.match(model.memoryEstimate?.method ?? '', /params: config:llama/);
  });

  it('tells encoder-only, encoder-decoder and embedding models apart', () => {
    const bert = createModelFromHuggingFace('google-bert/bert-base-uncased', fixtureConfig('google-bert--bert-base-uncased'));
    assert.equal(bert.modelType, 'encoder_only');
    assert.ok(bert.inputs.some((i) => i.name === 'token_type_ids' && i.optional));
    assert.equal(bert.memoryEstimate?.kvCacheBytes, 0);
    const t5 = createModelFromHuggingFace('google-t5/t5-small', fixtureConfig('google-t5--t5-small'));
    assert.equal(t5.modelType, 'encoder_decoder');
    assert.ok(t5.inputs.some((i) => i.name === 'decoder_input_ids'));
    const embedder = createModelFromHuggingFace('sentence-transformers/all-mpnet-base-v2', { architectures: ['MPNetModel'], model_type: 'mpnet', hidden_size: 768 }, {
      pipelineTag: 'sentence-similarity',
    });
    assert.equal(embedder.modelType, 'embedding_model');
    assert.deepEqual(embedder.outputs[0], { name: 'embeddings', dataType: 'EMBEDDINGS', dtype: 'float32', shape: ['batch', 768], description: 'one pooled vector per input', optional: false });
    assert.ok(embedder.capabilities.includes('embedding'));
  });

  it('reads seq2seq classes with an LM head as generators, not as feature extractors', () => {
    const marian = createModelFromHuggingFace('Helsinki-NLP/opus-mt-en-de', {
      architectures: ['MarianMTModel'], model_type: 'marian', is_encoder_decoder: true, d_model: 512, encoder_layers: 6, decoder_layers: 6, vocab_size: 58101,
    });
    assert.ok(marian.tags.includes('translation'));
    assert.equal(marian.modelType, 'encoder_decoder');
    assert.ok(marian.capabilities.includes('translation') && marian.capabilities.includes('text_generation'));
    assert.ok(!marian.capabilities.includes('embedding'));
    const oldT5 = createModelFromHuggingFace('t5-base', { ...fixtureConfig('google-t5--t5-small'), architectures: ['T5WithLMHeadModel'] });
    assert.ok(oldT5.tags.includes('text2text-generation'));
    assert.equal(oldT5.modelType, 'encoder_decoder');
  });

  it('reads a vision-language model as multimodal with an image input', () => {
    const model = createModelFromHuggingFace('llava-hf/llava-1.5-7b-hf', {
      architectures: ['LlavaForConditionalGeneration'], model_type: 'llava', vision_config: { hidden_size: 1024 }, text_config: fixtureConfig('meta-llama--Llama-3.1-8B'),
    });
    assert.equal(model.modelType, 'multimodal');
    assert.deepEqual(model.modalities.sort(), ['image', 'text']);
    assert.ok(model.inputs.some((i) => i.dataType === 'IMAGE'));
  });

  it('takes license, tags, base model and languages from the model card', () => {
    const card = parseModelCard(['---', 'license: apache-2.0', 'language:', '- en', '- fr', 'tags:', '- finetuned', 'base_model: mistralai/Mistral-7B-v0.1', 'pipeline_tag: text-generation', '---', '', '# My model', '', 'A helpful assistant tuned from Mistral.'].join('\n'));
    const model = createModelFromHuggingFace('me/my-mistral', fixtureConfig('mistralai--Mistral-7B-v0.1'), { card, hubTags: ['transformers', 'license:apache-2.0'] });
    assert.equal(model.license, 'apache-2.0');
    assert.equal(model.baseModel, 'mistralai/Mistral-7B-v0.1');
    assert.deepEqual(model.languages, ['en', 'fr']);
    assert.deepEqual(model.tags, ['finetuned', 'transformers', 'text-generation']);
    assert.equal(model.description, 'A helpful assistant tuned from Mistral.');
  });

  it('imports an unknown architecture with warnings instead of failing', () => {
    const warnings: string[] = [];
    const model = createModelFromHuggingFace('lab/novel', { architectures: ['NovelNet'], model_type: 'novel', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100 }, { warnings });
    assert.equal(model.modelType, 'language_model');
    assert.ok(warnings.some((w) => /unknown architecture "NovelNet"/.test(w)));
    assert.ok(warnings.some((w) => /approximated as a llama-style decoder/.test(w)));
    assert.ok(model.parameterCount! > 0);
  });

  it('refuses an id the registry cannot hold', () => {
    assert.throws(() => createModelFromHuggingFace('bad id with spaces', {}), (e) => isModelManagerError(e, 'INVALID_METADATA'));
  });
});

describe('parseModelCard', () => {
  it('reads model-index scores as quality metrics, with their shots', () => {
    const card = parseModelCard([
      '---', 'model-index:', '- name: my-model', '  results:', '  - task: {type: text-generation}',
      '    dataset: {name: MMLU (5-Shot), type: cais/mmlu, args: {num_few_shot: 5}}', '    metrics:', '    - {type: acc, value: 62.5, name: accuracy}',
      '    - {type: acc_norm, value: n/a}', '---', '',
    ].join('\n'));
    assert.deepEqual(card.metrics, [{ name: 'MMLU (5-Shot) accuracy', value: 62.5, shots: 5, source: 'model card' }]);
    const model = createModelFromHuggingFace('me/scored', fixtureConfig('openai-community--gpt2'), { card });
    assert.equal(model.qualityMetrics[0]?.value, 62.5);
  });


  it('turns broken front matter into a warning and keeps the text', () => {
    const card = parseModelCard('---\nlicense: [unclosed\n---\nSome words.');
    assert.match(card.warning ?? '', /not valid YAML/);
    assert.equal(card.summary, 'Some words.');
    assert.deepEqual(parseModelCard('no front matter at all').tags, []);
  });
});
