/**
 * Contract cases on text search: what each field scores (answers written out by hand), and that
 * search finds models by architecture, model type, tags, capabilities and the parts of their
 * Hugging Face id; each case on a fresh store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelMetadataInput, Registry } from '../../src/index.js';
import { freshStore, type StoreContractOptions } from './fresh-store.js';
import { CATALOGUE, SEARCH_SET } from './samples.js';

/** Models named nothing like their kind: only their labels and source say what they are. */
const KINDS: ModelMetadataInput[] = [
  // Seed 000's example: found by "bert" through its architecture alone.
  {
    modelId: 'my-model/sentiment-analyzer', modelName: 'Sentiment Analyzer', modelType: 'language_model',
    architecture: 'BertForSequenceClassification', tags: ['sentiment-analysis', 'classification'],
  },
  {
    modelId: 'local/emb-1', modelType: 'encoder_only', architecture: 'BertModel', capabilities: ['embedding'],
    sourceUrl: 'https://huggingface.co/google-bert/bert-base-uncased', description: 'sentence vectors',
  },
  { modelId: 'local/enc-2', modelType: 'encoder_only', architecture: 'BertForMaskedLM' },
  { modelId: 'local/gen', modelType: 'decoder_only', architecture: 'LlamaForCausalLM', capabilities: ['chat', 'code'] },
];

const ranked = async (registry: Registry, text: string, limit?: number) =>
  (await registry.searchModels(text, { limit })).map((h) => [h.model.modelId, h.score]);

export function searchCases(options: StoreContractOptions): void {
  describe('search', () => {
    it('ranks search hits: name beats label beats description', async () => {
      await using store = await freshStore(options, [...CATALOGUE, ...SEARCH_SET]);
      const rank = async (text: string, limit?: number) => (await ranked(store.registry, text, limit)).map(([id]) => id);
      assert.deepEqual(await ranked(store.registry, 'zephyrine'), [['search/zephyrine-1', 10], ['search/tagged', 5], ['search/tag-prefix', 3], ['search/described', 1]]);
      assert.deepEqual(await rank('ZEPHYR'), ['search/zephyrine-1', 'search/tag-prefix', 'search/tagged', 'search/described'], 'prefixes match, any case');
      assert.deepEqual(await rank('zephyrine', 2), ['search/zephyrine-1', 'search/tagged']);
      assert.deepEqual(await ranked(store.registry, 'zephyrine tagged'), [['search/tagged', 15]], 'every term must match; scores add up');
      assert.deepEqual(await ranked(store.registry, 'llama chat'), [['meta/llama-7b', 15]]);
      assert.deepEqual(await rank('yrine'), ['search/none'], 'a term matches the start of a word only');
      assert.deepEqual(await rank('nothing-like-this'), []);
      assert.deepEqual(await rank('  '), []);
      assert.deepEqual(await rank('zephyrine', 0), []);
    });

    it('finds models by architecture, model type, tags, capabilities and their Hugging Face id', async () => {
      await using store = await freshStore(options, KINDS);
      const { registry } = store;
      assert.deepEqual(await ranked(registry, 'bert'), [['local/emb-1', 10], ['local/enc-2', 5], ['my-model/sentiment-analyzer', 5]],
        'a word of the HF id is a name; a word of the architecture a label');
      for (const part of ['google', 'uncased', 'BASE']) assert.deepEqual(await ranked(registry, part), [['local/emb-1', 10]], part);
      assert.deepEqual(await ranked(registry, 'bertmodel'), [['local/emb-1', 5]], 'the architecture whole');
      assert.deepEqual(await ranked(registry, 'masked'), [['local/enc-2', 5]], 'a camel-case part of the architecture');
      assert.deepEqual(await ranked(registry, 'bertfor'), [['local/enc-2', 3], ['my-model/sentiment-analyzer', 3]]);
      assert.deepEqual(await ranked(registry, 'encoder'), [['local/emb-1', 5], ['local/enc-2', 5]], 'the model type');
      assert.deepEqual(await ranked(registry, 'embedding'), [['local/emb-1', 5]], 'a capability');
      assert.deepEqual(await ranked(registry, 'code chat'), [['local/gen', 10]], 'two capabilities');
      assert.deepEqual(await ranked(registry, 'classification'), [['my-model/sentiment-analyzer', 5]], 'a tag, and a part of the architecture');
      assert.deepEqual(await ranked(registry, 'sentiment bert'), [['my-model/sentiment-analyzer', 15]]);
      assert.deepEqual(await ranked(registry, 'bert sentence'), [['local/emb-1', 11]], 'a name and a description word');
    });

    it('finds a model by its new labels once it is updated, and not by its old ones', async () => {
      await using store = await freshStore(options, KINDS);
      const { registry } = store;
      await registry.updateModel('local/enc-2', { architecture: 'RobertaForMaskedLM', capabilities: ['fill-mask'] });
      assert.deepEqual(await ranked(registry, 'roberta fill'), [['local/enc-2', 10]]);
      assert.deepEqual(await ranked(registry, 'bertfor'), [['my-model/sentiment-analyzer', 3]]);
      await registry.removeModel('local/emb-1');
      assert.deepEqual(await ranked(registry, 'google'), []);
    });
  });
}
