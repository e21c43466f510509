/**
 * Contract cases at scale: 450 models made by simple rules (more than the 200 candidates the SQL
 * stores once gathered before ranking), added in shuffled order, so that no store gets a right
 * answer by reading rows as they were inserted. The expected answers follow from the rules, worked
 * out here by hand and by plain arithmetic on the model numbers, never by the product's own query code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelFilter, ModelMetadataInput, Registry } from '../../src/index.js';
import { freshStore, type StoreContractOptions } from './fresh-store.js';

const COUNT = 450;
const id = (i: number) => `bulk/item-${String(i).padStart(3, '0')}`;
const all = Array.from({ length: COUNT }, (_, i) => i);
/** The ids of the models whose number passes `keep`, by number (which is id order). */
const where = (keep: (i: number) => boolean) => all.filter(keep);

/** Model i: its type, format, size, context, tags, outputs and description follow from i. */
function bulkModel(i: number): ModelMetadataInput {
  const model: ModelMetadataInput = {
    modelId: id(i),
    modelType: ['decoder_only', 'encoder_only', 'embedding_model'][i % 3]!,
    format: (['gguf', 'onnx', 'safetensors', 'pytorch'] as const)[i % 4]!,
    parameterCount: (i + 1) * 1_000_000,
    tags: [i % 2 === 0 ? 'even' : 'odd', ...(i % 10 === 0 ? ['tenth'] : [])],
    inputs: [{ name: 'text', dataType: 'TEXT' }],
    outputs: [{ name: 'out', dataType: i % 3 === 0 ? 'TOKENS' : 'EMBEDDINGS' }],
    description: `common shared words${' filler'.repeat(i % 7)}`,
  };
  if (i % 5 !== 0) model.contextLength = 512 * (i % 5);
  return model;
}

/** A few models where "common" or "shared" is also a name word, a name's prefix, a label, or a label's prefix. */
const SPECIAL: Record<number, Partial<ModelMetadataInput>> = {
  330: { displayName: 'Common Item' },
  440: { displayName: 'Common Item' },
  420: { displayName: 'Commonplace' },
  310: { tags: ['even', 'tenth', 'common'] },
  410: { tags: ['even', 'tenth', 'common'] },
  400: { tags: ['even', 'tenth', 'commonality'] },
  405: { tags: ['odd', 'shared'] },
};

/** Models 0 to count - 1, in a shuffled but fixed order (count must share no factor with 269). */
export function bulkModels(count: number): ModelMetadataInput[] {
  return Array.from({ length: count }, (_, k) => (k * 269) % count).map((i) => ({ ...bulkModel(i), ...SPECIAL[i] }));
}

const MODELS = bulkModels(COUNT);

/** The top 15 of searches over the bulk models (at least 450 of them) whose matches overflow any candidate pool. */
export async function assertBulkSearches(registry: Registry): Promise<void> {
  const search = async (text: string) => (await registry.searchModels(text, { limit: 15 })).map((h) => [h.model.modelId, h.score]);
  const scored = (list: [number, number][]) => list.map(([i, score]) => [id(i), score]);
  const plain = (numbers: number[], score: number) => numbers.map((i): [number, number] => [i, score]);
  // Name word 10, name word's start 6, label 5, label word's start 3, description 1; ties by id.
  assert.deepEqual(await search('common'), scored([[330, 10], [440, 10], [420, 6], [310, 5], [410, 5], [400, 3], ...plain(where((i) => i < 9), 1)]));
  assert.deepEqual(await search('commo'), scored([[330, 6], [420, 6], [440, 6], [310, 3], [400, 3], [410, 3], ...plain(where((i) => i < 9), 1)]));
  assert.deepEqual(await search('common shared'),
    scored([[330, 11], [440, 11], [420, 7], [310, 6], [405, 6], [410, 6], [400, 4], ...plain(where((i) => i < 8), 2)]));
  assert.deepEqual(await search('shared'), scored([[405, 5], ...plain(where((i) => i < 14), 1)]));
  // "filler" is in the descriptions of the models with i % 7 != 0 only.
  assert.deepEqual(await search('filler'), scored(plain(where((i) => i % 7 !== 0).slice(0, 15), 1)));
  // "item" is a name word of every model; "04" begins the number of models 40 to 49.
  assert.deepEqual(await search('item 04'), scored(plain(where((i) => i >= 40 && i <= 49), 16)));
  assert.deepEqual(await search('common zzz'), []);
}

export function agreementCases(options: StoreContractOptions): void {
  describe(`${COUNT} models, past the candidate pool`, () => {
    it('filters, sorts, pages and counts by the rules the models were made by', async () => {
      await using store = await freshStore(options, MODELS);
      const { registry } = store;
      const cases: [ModelFilter, number[], number][] = [
        // decoder_only and gguf: i % 12 == 0; at least 200M parameters: i >= 199; biggest first, from the 4th.
        [{ modelType: 'decoder_only', format: 'gguf', minParams: 200e6, sort: 'parameterCount', order: 'desc', limit: 10, offset: 3 },
          [408, 396, 384, 372, 360, 348, 336, 324, 312, 300], 21],
        // even, tenth and tokens out: i % 30 == 0.
        [{ tags: ['even', 'tenth'], outputType: 'TOKENS' }, where((i) => i % 30 === 0), 15],
        // Context 512 * (i % 5), none when i % 5 == 0 (last): the 90 models of 512, then those of 1024.
        [{ sort: 'contextLength', limit: 5, offset: 88 }, [441, 446, 2, 7, 12], COUNT],
        [{ inputType: 'TEXT', limit: 3, offset: 447 }, [447, 448, 449], COUNT],
        // onnx or pytorch: odd i; at most 50M parameters: i <= 49.
        [{ format: ['onnx', 'pytorch'], maxParams: 50e6 }, where((i) => i % 2 === 1 && i <= 49), 25],
        [{ modelType: 'embedding_model', sort: 'modelId', order: 'desc', limit: 4 }, [449, 446, 443, 440], 150],
        [{ minParams: 451e6 }, [], 0],
      ];
      for (const [filter, expected, total] of cases) {
        assert.deepEqual((await registry.listModels(filter)).map((m) => m.modelId), expected.map(id), JSON.stringify(filter));
        assert.equal(await registry.countModels(filter), total, `count of ${JSON.stringify(filter)}`);
      }
    });

    it('ranks searches whose matches overflow the candidate pool', async () => {
      await using store = await freshStore(options, MODELS);
      await assertBulkSearches(store.registry);
    });
  });
}
