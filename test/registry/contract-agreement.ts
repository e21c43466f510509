/**
 * Contract case: on a few hundred generated models of realistic variety, every store answers
 * filters and searches exactly as the reference (a scan with the shared query.ts functions) does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { benchFilter, benchModel, benchSearch, random } from '../../bench/registry-data.js';
import {
  Registry, compareModels, matchesFilter, normalizeFilter, page, rankSearch, validateModel, type ModelFilter, type ModelMetadata,
} from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import type { StoreContractOptions } from './store-contract.js';

// Fewer models than a store's search candidate pool (200), so the expected answers are exact.
const COUNT = 180;

export function agreementCases({ open, file }: StoreContractOptions): void {
  describe('agreement with the reference', () => {
    const dir = tempDir();
    const rnd = random(11);
    const models = Array.from({ length: COUNT }, (_, i) => validateModel(benchModel(i, rnd)));
    let registry: Registry;
    before(async () => {
      registry = await Registry.open({ instance: await open(`${dir.path}/${file}`) });
      await registry.addModels(models);
    });
    after(async () => {
      await registry.close();
      dir[Symbol.dispose]();
    });
    const stored = async () => new Map((await registry.listModels()).map((m) => [m.modelId, m]));

    it('filters, sorts and pages like the reference', async () => {
      const byId = await stored();
      const q = random(5);
      const filters: ModelFilter[] = [
        ...Array.from({ length: 15 }, () => ({ ...benchFilter(q), limit: 10, offset: 3 })),
        { tags: ['chat', 'code'], sort: 'parameterCount', order: 'desc' },
        { inputType: 'TEXT', outputType: ['EMBEDDINGS', 'TEXT'], fitsBytes: 2e9, sort: 'contextLength' },
        { source: ['static', 'discovered'], maxParams: 8e9, minParams: 1e9, sort: 'modelName', limit: 7 },
        { architecture: ['llamaforcausallm', 'BertModel'], attentionType: 'mha' },
      ];
      for (const filter of filters) {
        const f = normalizeFilter(filter);
        const expected = page([...byId.values()].filter((m) => matchesFilter(m, f)).sort(compareModels(f.sort, f.order)), f);
        const got = await registry.listModels(filter);
        assert.deepEqual(got.map((m) => m.modelId), expected.map((m) => m.modelId), JSON.stringify(filter));
        assert.equal(await registry.countModels(filter), [...byId.values()].filter((m) => matchesFilter(m, f)).length);
      }
    });

    it('ranks searches like the reference', async () => {
      const all: ModelMetadata[] = [...(await stored()).values()];
      const q = random(6);
      const texts = [...Array.from({ length: 25 }, () => benchSearch(q)), 'qwen 7', 'mistral-7', 'embeddings retrieval', 'zzz'];
      for (const text of texts) {
        const expected = rankSearch(all, text, 15).map((h) => [h.model.modelId, h.score]);
        const got = (await registry.searchModels(text, { limit: 15 })).map((h) => [h.model.modelId, h.score]);
        assert.deepEqual(got, expected, text);
      }
    });
  });
}
