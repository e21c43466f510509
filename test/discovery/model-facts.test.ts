import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { emptyFacts, factsFromHfConfig } from '../../src/discovery/model-facts.js';
import { createModelFromHuggingFace } from '../../src/index.js';
import { FIXTURES, fixtureConfig } from '../hub/model-files.js';

const FIXTURE_NAMES = readdirSync(FIXTURES).filter((d) => d.includes('--'));

test('a config found on disk reads as the same model the Hugging Face import makes of it', () => {
  assert.ok(FIXTURE_NAMES.length >= 10);
  for (const fixture of FIXTURE_NAMES) {
    const config = fixtureConfig(fixture);
    const imported = createModelFromHuggingFace(fixture.replace('--', '/'), config);
    const facts = emptyFacts();
    factsFromHfConfig(config, facts);
    const io = (specs: { name: string; dataType: unknown }[] | undefined) => specs?.map((s) => `${s.name}:${String(s.dataType)}`);
    const found = { modelType: facts.modelType, attentionType: facts.attentionType, contextLength: facts.contextLength, modalities: [...facts.modalities].sort(), inputs: io(facts.inputs), outputs: io(facts.outputs) };
    const expected = { modelType: imported.modelType, attentionType: imported.attentionType, contextLength: imported.contextLength, modalities: [...imported.modalities].sort(), inputs: io(imported.inputs), outputs: io(imported.outputs) };
    assert.deepEqual(found, expected, fixture);
  }
});

test('Whisper is a speech recogniser that hears audio, both imported and found', () => {
  const config = { architectures: ['WhisperForConditionalGeneration'], model_type: 'whisper', is_encoder_decoder: true, d_model: 384, encoder_attention_heads: 6 };
  const imported = createModelFromHuggingFace('openai/whisper-tiny', config);
  assert.deepEqual([imported.modelType, imported.modalities.sort(), imported.inputs.map((i) => i.dataType)], ['audio_model', ['audio', 'text'], ['AUDIO']]);
  assert.ok(imported.capabilities.includes('speech_recognition'));
  const facts = emptyFacts();
  factsFromHfConfig(config, facts);
  assert.deepEqual([facts.modelType, [...facts.modalities].sort(), [...facts.capabilities]], ['audio_model', ['audio', 'text'], ['speech_recognition']]);
});

test('an unknown architecture leaves the model type to the weights: a guess is not a fact', () => {
  const facts = emptyFacts();
  factsFromHfConfig({ model_type: 'nomic_bert' }, facts);
  assert.equal(facts.modelType, undefined);
  assert.deepEqual([...facts.modalities], ['text']);
});

test('a bare vision backbone (ViTModel) embeds images, not text', () => {
  const config = { architectures: ['ViTModel'], model_type: 'vit', hidden_size: 768, num_attention_heads: 12, image_size: 224 };
  const imported = createModelFromHuggingFace('google/vit-base-patch16-224-in21k', config);
  assert.deepEqual([imported.modalities, imported.inputs.map((i) => i.dataType), imported.outputs[0]?.dataType], [['image'], ['IMAGE'], 'EMBEDDINGS']);
  const facts = emptyFacts();
  factsFromHfConfig(config, facts);
  assert.deepEqual([...facts.modalities], ['image']);
});

test('a bare speech encoder (HubertModel) hears audio, not text', () => {
  const config = { architectures: ['HubertModel'], model_type: 'hubert', hidden_size: 768, num_attention_heads: 12 };
  const imported = createModelFromHuggingFace('facebook/hubert-base-ls960', config);
  assert.deepEqual([imported.modalities, imported.inputs.map((i) => i.dataType)], [['audio'], ['AUDIO']]);
  const facts = emptyFacts();
  factsFromHfConfig(config, facts);
  assert.deepEqual([...facts.modalities], ['audio']);
});
