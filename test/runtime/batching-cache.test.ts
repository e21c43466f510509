/**
 * Dynamic batching and the embedding cache, on the real backends and generated models.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelManager, type EmbeddingTaskOutput } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, writeTinyModels, type TinyModels } from './fixtures.js';

const dir = tempDir('mm-runtime-batch-');
let models: TinyModels;

before(async () => {
  models = await writeTinyModels(dir.path);
});
after(() => dir[Symbol.dispose]());

for (const [label, model] of [['ONNX', () => models.onnxEmbedding], ['GGUF', () => models.ggufEmbedding]] as const) {
  test(`concurrent single-text requests to one ${label} model are merged into batches, with the same vectors`, async () => {
    await using manager = await ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 }, batching: { maxBatchSize: 16 } });
    const texts = Array.from({ length: 40 }, (_, i) => `sentence number ${i}`);
    const one = await Promise.all(texts.map((t) => manager.task({ taskData: [t], taskType: 'embedding', modelName: model() })));
    const batched = one.map((r) => dataOf<EmbeddingTaskOutput>(r).embeddings[0]!);
    const calls = manager.getModelStatus(model())!.backendCalls;
    assert.ok(calls <= Math.ceil(40 / 16) + 1, `40 requests took ${calls} backend calls`);

    // The same texts one at a time (no batching possible) give the same vectors, each to its own caller.
    for (let i = 0; i < texts.length; i += 13) {
      const alone = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: [texts[i]!], taskType: 'embedding', modelName: model() }));
      for (let d = 0; d < alone.dimensions; d++) assert.ok(Math.abs(alone.embeddings[0]![d]! - batched[i]![d]!) < 1e-4);
    }
  });
}

test('requests with different parameters are not merged into one batch', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 } });
  const [normal, raw] = await Promise.all([
    manager.task({ taskData: ['same'], taskType: 'embedding', modelName: models.onnxEmbedding }),
    manager.task({ taskData: ['same'], taskType: 'embedding', modelName: models.onnxEmbedding, normalize: false }),
  ]);
  assert.notDeepEqual(dataOf<EmbeddingTaskOutput>(normal).embeddings, dataOf<EmbeddingTaskOutput>(raw).embeddings);
});

test('the cache answers repeated texts, counts hits and misses, and serves a fully cached request without a load', async () => {
  await using manager = await ModelManager.create({ gpuCount: 0 });
  const first = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['a', 'b', 'a'], taskType: 'embedding', modelName: models.ggufEmbedding, keepAlive: 0 }));
  assert.equal(first.cached, 0);
  assert.deepEqual(first.embeddings[0], first.embeddings[2]);
  assert.equal(manager.ps().length, 0, 'keepAlive 0 freed it');
  const again = await manager.generateEmbeddings(['b', 'a'], models.ggufEmbedding);
  assert.equal(again.cached, 2);
  assert.deepEqual(again.embeddings, [first.embeddings[1], first.embeddings[0]]);
  assert.equal(manager.getStatus().counters.loads, 1, 'cached texts need no model');
  const { hits, misses, entries } = manager.getStatus().cache;
  assert.deepEqual({ hits, misses, entries }, { hits: 2, misses: 3, entries: 2 });
  const mixed = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['a', 'new'], taskType: 'embedding', modelName: models.ggufEmbedding }));
  assert.equal(mixed.cached, 1);
});

test('each text of a request is hashed once for the cache, whether it misses, partly hits, fully hits or counts tokens; none with the cache off', async () => {
  const hashesPerRequest = async (manager: ModelManager) => {
    const cache = manager.cache;
    const digest = cache.digest.bind(cache);
    let hashed = 0;
    cache.digest = (text) => {
      hashed += 1;
      return digest(text);
    };
    return async (texts: string[], extra: Record<string, unknown> = {}) => {
      hashed = 0;
      dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: models.onnxEmbedding, ...extra }));
      return hashed;
    };
  };
  await using manager = await ModelManager.create({ gpuCount: 0 });
  const hashes = await hashesPerRequest(manager);
  assert.equal(await hashes(['one', 'two', 'three']), 3, 'a miss');
  assert.equal(await hashes(['one', 'four']), 2, 'a partial hit');
  assert.equal(await hashes(['one', 'two']), 2, 'a full hit');
  assert.equal(await hashes(['five', 'six'], { countTokens: true }), 2, 'counting tokens');

  await using uncached = await ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 } });
  assert.equal(await (await hashesPerRequest(uncached))(['one', 'two']), 0, 'the cache off');
});

test('the persisted cache survives a restart of the manager', async () => {
  const persistPath = join(dir.path, 'cache.json');
  const first = await ModelManager.create({ gpuCount: 0, embeddingCache: { persistPath } });
  const vectors = (await first.generateEmbeddings(['persist me'], models.onnxEmbedding)).embeddings;
  await first.shutdown();
  await using second = await ModelManager.create({ gpuCount: 0, embeddingCache: { persistPath } });
  const again = await second.generateEmbeddings(['persist me'], models.onnxEmbedding);
  assert.equal(again.cached, 1);
  assert.deepEqual(again.embeddings, vectors);
  assert.equal(second.getStatus().counters.loads, 0);
});
