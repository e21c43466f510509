import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countParametersFromConfig, detectAttentionType, estimateMemory } from '../../src/index.js';
import { fixtureConfig, llamaTensors, publishedModels, TINY_LLAMA_CONFIG } from '../hub/model-files.js';

describe('parameter counts from real published configs', () => {
  const models = publishedModels();

  it('covers at least ten models', () => {
    assert.ok(models.length >= 10, `${models.length} fixtures`);
  });

  for (const m of models) {
    it(`${m.id}: within 2% of the published ${m.published.toLocaleString('en')} (${m.source})`, () => {
      const counted = countParametersFromConfig(fixtureConfig(m.fixture));
      assert.ok(counted, 'the config is counted');
      const error = Math.abs(counted.parameters - m.published) / m.published;
      assert.ok(error < 0.02, `counted ${counted.parameters.toLocaleString('en')}, off by ${(error * 100).toFixed(2)}%`);
      assert.match(counted.method, /^config:/);
      assert.notEqual(counted.method, 'config:generic-decoder');
    });

    it(`${m.id}: attention type ${m.attention} and ${m.kvBytesPerTokenFp16} bytes of fp16 KV cache per token`, () => {
      const config = fixtureConfig(m.fixture);
      assert.equal(detectAttentionType(config), m.attention);
      assert.equal(estimateMemory(config).kvCacheBytesPerToken, m.kvBytesPerTokenFp16);
    });
  }

  it('matches the tensors transformers would save for the same config (tiny llama)', () => {
    const tensors = llamaTensors(TINY_LLAMA_CONFIG);
    const fromTensors = Object.values(tensors).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    assert.equal(countParametersFromConfig(TINY_LLAMA_CONFIG)?.parameters, fromTensors);
  });

  it('counts every expert of a mixture of experts and the latent attention of DeepSeek', () => {
    const mixtral = countParametersFromConfig(fixtureConfig('mistralai--Mixtral-8x7B-v0.1'))!.parameters;
    const mistral = countParametersFromConfig(fixtureConfig('mistralai--Mistral-7B-v0.1'))!.parameters;
    assert.ok(mixtral > 6 * mistral, 'eight experts make Mixtral over six times Mistral');
    // The hub publishes DeepSeek-V2-Lite's total as 15.7B, rounded to a tenth of a billion: the
    // true count lies within half of that, 0.05B, of 15.7B (the 2% check above is far looser).
    const deepseek = countParametersFromConfig(fixtureConfig('deepseek-ai--DeepSeek-V2-Lite'))!.parameters;
    assert.ok(Math.abs(deepseek - 15.7e9) <= 0.05e9, `counted ${deepseek.toLocaleString('en')}, published 15.7B`);
  });

  it('approximates an unknown family as a llama-style decoder and says so; gives up without sizes', () => {
    const unknown = countParametersFromConfig({ ...TINY_LLAMA_CONFIG, model_type: 'brand_new_arch' });
    assert.equal(unknown?.method, 'config:generic-decoder');
    assert.equal(countParametersFromConfig({ model_type: 'llama', hidden_size: 64 }), undefined);
    assert.equal(countParametersFromConfig({}), undefined);
  });

  it('reads the language model of a multimodal config from text_config', () => {
    const llama = fixtureConfig('meta-llama--Llama-3.1-8B');
    const wrapped = { architectures: ['LlavaForConditionalGeneration'], model_type: 'llava', text_config: llama, vision_config: { hidden_size: 1024 } };
    assert.equal(countParametersFromConfig(wrapped)?.parameters, countParametersFromConfig(llama)?.parameters);
    assert.equal(detectAttentionType(wrapped), 'gqa');
  });
});

describe('attention type', () => {
  it('is MLA when a low-rank projection is configured, whatever the KV heads say', () => {
    assert.equal(detectAttentionType({ num_attention_heads: 16, num_key_value_heads: 16, kv_lora_rank: 512 }), 'mla');
    assert.equal(detectAttentionType({ num_attention_heads: 16, num_key_value_heads: 16, q_lora_rank: 1536 }), 'mla');
  });

  it('is MQA for one KV head, GQA for fewer than the query heads, MHA otherwise', () => {
    assert.equal(detectAttentionType({ num_attention_heads: 8, num_key_value_heads: 1 }), 'mqa');
    assert.equal(detectAttentionType({ num_attention_heads: 32, num_key_value_heads: 8 }), 'gqa');
    assert.equal(detectAttentionType({ num_attention_heads: 12 }), 'mha');
    assert.equal(detectAttentionType({ n_head: 71, multi_query: true, hidden_size: 4544 }), 'mqa');
    assert.equal(detectAttentionType({ hidden_size: 64 }), undefined);
  });
});
