/**
 * Contract cases on queries: every filter (answers written out by hand), sorting and paging,
 * stats, and export/import (JSON, YAML, and the Python managers' snake_case JSON); each case on
 * a fresh store holding the hand-made catalogue.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { ModelFilter, ModelMetadata, ModelMetadataInput } from '../../src/index.js';
import { freshStore, type StoreContractOptions } from './fresh-store.js';
import { CATALOGUE } from './samples.js';

const GB = 1_000_000_000;
const ids = (models: readonly ModelMetadata[]) => models.map((m) => m.modelId);
const sorted = (list: string[]) => [...list].sort();

/** Python-manager export: snake_case keys, upper-case enums, dates without a zone. */
const PYTHON_EXPORT = {
  models: {
    'bert-base-uncased': {
      model_id: 'google/bert-base-uncased', model_name: 'bert-base-uncased', model_type: 'ENCODER_ONLY', architecture: 'BertModel',
      description: 'BERT base', tags: ['nlp'], source: 'huggingface', parameter_count: 110_000_000, attention_type: 'MHA',
      inputs: [{ name: 'input_ids', data_type: 'tokens', shape: [null, 512], dtype: 'int64', description: '', optional: false }],
      outputs: [{ name: 'last_hidden_state', data_type: 'EMBEDDINGS', shape: [null, 512, 768], dtype: 'float32' }],
      huggingface_config: { hidden_size: 768, num_attention_heads: 12 }, performance_metrics: { tokens_per_second: 12.5 },
      created_at: '2024-01-02T03:04:05', updated_at: '2024-01-02T03:04:05', license: null,
    },
  },
};

export function queryCases(options: StoreContractOptions): void {
  describe('queries', () => {

    const cases: [string, ModelFilter, string[]][] = [
      ['type', { modelType: 'decoder_only' }, ['deepseek/v3', 'meta/llama-70b', 'meta/llama-7b', 'mistralai/mistral-7b']],
      ['several types (any of)', { modelType: ['encoder-only', 'AUDIO_MODEL'] }, ['google/bert-base', 'openai/whisper']],
      ['architecture, any case', { architecture: 'llamaforcausallm' }, ['meta/llama-70b', 'meta/llama-7b']],
      ['tags (all of)', { tags: ['chat', 'llm'] }, ['meta/llama-7b', 'mistralai/mistral-7b']],
      ['one tag', { tags: ['embedding'] }, ['google/bert-base', 'openai/clip']],
      ['input type', { inputType: 'IMAGE' }, ['openai/clip']],
      ['input types (any of)', { inputType: ['image', 'audio'] }, ['openai/clip', 'openai/whisper']],
      ['output type', { outputType: 'EMBEDDINGS' }, ['google/bert-base', 'openai/clip']],
      ['compatible input and output', { inputType: 'TEXT', outputType: 'EMBEDDINGS' }, ['google/bert-base', 'openai/clip']],
      ['attention type', { attentionType: 'MLA' }, ['deepseek/v3']],
      ['format', { format: ['gguf', 'pytorch'] }, ['meta/llama-7b', 'mistralai/mistral-7b', 'openai/whisper']],
      ['source', { source: 'discovered' }, ['google/bert-base']],
      ['min params', { minParams: 7_100_000_000 }, ['deepseek/v3', 'meta/llama-70b', 'mistralai/mistral-7b']],
      ['max params', { maxParams: 1_500_000_000 }, ['google/bert-base', 'openai/clip', 'openai/whisper']],
      ['params range', { minParams: 7 * GB, maxParams: 7.2 * GB }, ['meta/llama-7b', 'mistralai/mistral-7b']],
      ['fits in memory (unknown estimate excluded)', { fitsBytes: 8 * GB }, ['google/bert-base', 'meta/llama-7b', 'mistralai/mistral-7b', 'openai/whisper']],
      ['several fields at once', { modelType: 'decoder_only', tags: ['llm'], format: 'safetensors', maxParams: 100 * GB }, ['meta/llama-70b']],
      ['nothing matches', { modelType: 'vision_model' }, []],
      ['local path (exact)', { localPath: '/srv/models/llama-7b' }, ['meta/llama-7b']],
      ['local path: a prefix is not a match', { localPath: '/srv/models/llama-7' }, []],
      ['no filter', {}, sorted(CATALOGUE.map((m) => m.modelId))],
    ];
    for (const [name, filter, expected] of cases) {
      it(`filters by ${name}`, async () => {
        await using store = await freshStore(options, CATALOGUE);
        const { registry } = store;
        assert.deepEqual(ids(await registry.listModels(filter)), expected);
        assert.equal(await registry.countModels({ ...filter, limit: 1 }), expected.length, 'count ignores the limit');
      });
    }

    it('sorts, pages, and puts unknown values last', async () => {
      await using store = await freshStore(options, CATALOGUE);
      const { registry } = store;
      const byParams = ids(await registry.listModels({ sort: 'parameterCount', order: 'desc' }));
      assert.deepEqual(byParams, ['deepseek/v3', 'meta/llama-70b', 'mistralai/mistral-7b', 'meta/llama-7b', 'openai/whisper', 'openai/clip', 'google/bert-base', 'local/mystery']);
      const ascending = ids(await registry.listModels({ sort: 'contextLength' }));
      assert.deepEqual(ascending.slice(0, 2), ['openai/clip', 'google/bert-base']);
      assert.deepEqual(ascending.slice(-2), ['local/mystery', 'openai/whisper'], 'missing values last, ties by id');
      assert.deepEqual(ids(await registry.listModels({ sort: 'modelId', limit: 2, offset: 1 })), ['google/bert-base', 'local/mystery']);
      assert.deepEqual(ids(await registry.listModels({ sort: 'modelId', order: 'desc', limit: 2 })), ['openai/whisper', 'openai/clip']);
      assert.deepEqual(ids(await registry.listModels({ modelType: 'decoder_only', sort: 'modelName', offset: 2 })), ['mistralai/mistral-7b', 'deepseek/v3']);
      assert.deepEqual(await registry.listModels({ limit: 0 }), []);
      assert.deepEqual(ids(await registry.getCompatibleModels('AUDIO', 'TEXT')), ['openai/whisper']);
      assert.deepEqual(ids(await registry.getModelsByOutputType('TOKENS')), ['deepseek/v3', 'meta/llama-70b', 'meta/llama-7b', 'mistralai/mistral-7b']);
    });

    it('counts by type, architecture, attention, format and source', async () => {
      await using store = await freshStore(options, CATALOGUE);
      const { registry } = store;
      const stats = await registry.getStats();
      assert.equal(stats.totalModels, 8);
      assert.equal(stats.totalVersions, 8);
      assert.equal(stats.totalParameters, 7 * GB + 70 * GB + 7.2 * GB + 110_000_000 + 150_000_000 + 1.5 * GB + 671 * GB);
      assert.deepEqual(stats.byType, { decoder_only: 4, encoder_only: 1, multimodal: 1, audio_model: 1, language_model: 1 });
      assert.deepEqual(stats.byArchitecture, { LlamaForCausalLM: 2, MistralForCausalLM: 1, BertModel: 1, CLIPModel: 1, WhisperForConditionalGeneration: 1, DeepseekV3ForCausalLM: 1 });
      assert.deepEqual(stats.byAttentionType, { gqa: 3, mha: 3, mla: 1 });
      assert.deepEqual(stats.byFormat, { gguf: 2, safetensors: 3, onnx: 1, pytorch: 1 });
      assert.deepEqual(stats.bySource, { huggingface: 4, manual: 2, discovered: 1, static: 1 });
    });

    it('passes what someone in given groups may see: public models, and restricted ones sharing a group', async () => {
      const access: ModelMetadataInput[] = [
        { modelId: 'acl/public', modelType: 'decoder_only', parameterCount: 1 },
        { modelId: 'acl/public-grouped', modelType: 'encoder_only', groups: ['a'], parameterCount: 2 },
        { modelId: 'acl/for-a', modelType: 'decoder_only', accessLevel: 'restricted', groups: ['a'], parameterCount: 4 },
        { modelId: 'acl/for-b', modelType: 'encoder_only', accessLevel: 'restricted', groups: ['b'], parameterCount: 8 },
        { modelId: 'acl/for-a-and-b', modelType: 'decoder_only', accessLevel: 'restricted', groups: ['b', 'a'], parameterCount: 16 },
        { modelId: 'acl/for-no-one', modelType: 'decoder_only', accessLevel: 'restricted', groups: [], parameterCount: 32 },
        { modelId: 'acl/admins', modelType: 'decoder_only', accessLevel: 'admin_only', parameterCount: 64 },
        { modelId: 'acl/admins-of-a', modelType: 'decoder_only', accessLevel: 'admin_only', groups: ['a'], parameterCount: 128 },
      ];
      await using store = await freshStore(options, access);
      const { registry } = store;
      const cases: [readonly string[], string[]][] = [
        [[], ['acl/public', 'acl/public-grouped']],
        [['a'], ['acl/for-a', 'acl/for-a-and-b', 'acl/public', 'acl/public-grouped']],
        [['c', 'b'], ['acl/for-a-and-b', 'acl/for-b', 'acl/public', 'acl/public-grouped']],
        [['A'], ['acl/public', 'acl/public-grouped']],
      ];
      const all = ids(await registry.listModels());
      for (const [groups, expected] of cases) {
        assert.deepEqual(ids(await registry.listModels({ visibleToGroups: groups })), expected, `groups ${groups.join(',')}`);
        assert.equal(await registry.countModels({ visibleToGroups: groups }), expected.length, `count for groups ${groups.join(',')}`);
        assert.deepEqual(ids(await registry.listModels({ hiddenFromGroups: groups })), all.filter((id) => !expected.includes(id)), `hidden from groups ${groups.join(',')}`);
      }
      assert.deepEqual(ids(await registry.listModels({ visibleToGroups: ['a', 'b'], modelType: 'decoder_only', sort: 'parameterCount', order: 'desc', limit: 2 })),
        ['acl/for-a-and-b', 'acl/for-a']);

      // Stats of what one may see: its models and their versions, nothing of the rest; a deleted one is gone from both.
      await registry.updateModel('acl/for-a', { description: 'a second version' });
      await registry.updateModel('acl/admins-of-a', { description: 'a second version' });
      await registry.deleteModel('acl/public-grouped');
      const stats = await registry.getStats({ visibleToGroups: ['a'] });
      assert.deepEqual([stats.totalModels, stats.totalVersions, stats.totalParameters], [3, 4, 1 + 4 + 16]);
      assert.deepEqual(stats.byType, { decoder_only: 3 });
      assert.equal(await registry.countModels({ visibleToGroups: ['a'] }), 3);
      assert.equal((await registry.getStats()).totalModels, 7, 'no filter: every model that is not deleted');
    });

    for (const format of ['json', 'yaml'] as const) {
      it(`exports and imports ${format} without loss`, async () => {
        await using store = await freshStore(options, CATALOGUE);
        const { registry } = store;
        const exported = `${store.dir}/export.${format}`;
        assert.equal(await registry.exportMetadata(exported), 8);
        await using copy = await freshStore(options);
        const other = copy.registry;
        const result = await other.importMetadata(exported);
        assert.deepEqual(sorted(result.added), sorted(CATALOGUE.map((m) => m.modelId)));
        const strip = (list: ModelMetadata[]) => list.map(({ updatedAt: _u, ...rest }) => rest);
        assert.deepEqual(strip(await other.listModels()), strip(await registry.listModels()));
        const again = await other.importMetadata(exported);
        assert.deepEqual([again.added.length, again.updated.length, again.unchanged.length], [0, 0, 8]);
      });
    }

    it("imports the Python managers' snake_case JSON", async () => {
      await using store = await freshStore(options, CATALOGUE);
      const { registry } = store;
      const source = `${store.dir}/python.json`;
      await writeFile(source, JSON.stringify(PYTHON_EXPORT));
      assert.deepEqual((await registry.importMetadata(source)).added, ['google/bert-base-uncased']);
      const m = await registry.getModel('google/bert-base-uncased');
      assert.equal(m?.modelType, 'encoder_only');
      assert.equal(m?.attentionType, 'mha');
      assert.equal(m?.inputs[0]?.dataType, 'TOKENS');
      assert.deepEqual(m?.inputs[0]?.shape, [null, 512]);
      assert.deepEqual(m?.huggingfaceConfig, { hidden_size: 768, num_attention_heads: 12 }, 'free-form keys stay as written');
      assert.deepEqual(m?.performanceMetrics, { tokens_per_second: 12.5 });
      assert.equal(m?.createdAt, '2024-01-02T03:04:05Z');
      assert.equal(m?.license, undefined);
      assert.deepEqual(ids(await registry.listModels({ inputType: 'TOKENS' })), ['google/bert-base-uncased']);
    });
  });
}
