/**
 * Lifecycle rules on the real backends and generated models: one load per model, shared
 * references, keep-alive, release, memory budget with LRU eviction, loaded-model limit,
 * bounded queue, shutdown.
 */
import assert from 'node:assert/strict';
import { after, before, mock, test } from 'node:test';
import { ModelManager, type EmbeddingTaskOutput, type ModelManagerOptions } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, waitFor, writeTinyModels, type TinyModels } from './fixtures.js';

const dir = tempDir('mm-runtime-life-');
let models: TinyModels;
const embed = (modelName: string, extra: Record<string, unknown> = {}) => ({ taskData: ['some text'], taskType: 'embedding', modelName, ...extra });
/** A manager without the embedding cache, so every request really reaches its model. */
const create = (options: ModelManagerOptions = {}) => ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 }, ...options });

before(async () => {
  models = await writeTinyModels(dir.path);
});
after(() => dir[Symbol.dispose]());

test('concurrent first requests share one load', async () => {
  await using manager = await create();
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => manager.task(embed(models.onnxEmbedding, { taskData: [`text ${i}`] }))));
  assert.ok(results.every((r) => r.success));
  assert.equal(manager.getStatus().counters.loads, 1);
  assert.equal(manager.ps().length, 1);
});

test('getModel() hands out the same instance to every caller, counted; keep-alive starts after the last release', async () => {
  await using manager = await create();
  const a = await manager.getModel(models.ggufEmbedding, { keepAlive: '100ms' });
  const b = await manager.getModel(models.ggufEmbedding);
  assert.equal(manager.getStatus().counters.loads, 1);
  assert.equal(manager.ps()[0]?.refs, 2);
  const [va] = await a.embed(['same text']);
  const [vb] = await b.embed(['same text']);
  assert.deepEqual(va, vb);

  // Held models are never freed by the timer, however long they stay idle: with the clock in the
  // test's hands, a day passes and any keep-alive timer armed meanwhile would have fired.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    a.release();
    a.release(); // idempotent: still one reference left
    assert.equal(manager.ps()[0]?.refs, 1);
    assert.equal(manager.ps()[0]?.expiresAt, null);
    mock.timers.tick(24 * 60 * 60 * 1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(manager.ps().length, 1);
  } finally {
    mock.timers.reset();
  }

  b.release();
  assert.ok(manager.ps()[0]?.expiresAt, 'keep-alive armed once the last reference went');
  await waitFor(() => manager.ps().length === 0, 'auto-release');
  assert.equal(manager.getStatus().counters.expired, 1);
  assert.equal(manager.getStatus().memory.usedBytes, 0, 'its memory is given back to the budget');
  await assert.rejects(async () => b.embed(['x']), /released/);
  // The next request loads it again, transparently.
  assert.equal((await manager.task(embed(models.ggufEmbedding))).success, true);
  assert.equal(manager.getStatus().counters.loads, 2);
});

test('keepAlive 0 frees right after the task; -1 keeps the model with no expiry', async () => {
  await using manager = await create();
  dataOf(await manager.task(embed(models.onnxEmbedding, { keepAlive: 0 })));
  assert.equal(manager.ps().length, 0);
  dataOf(await manager.task(embed(models.ggufEmbedding, { keepAlive: -1 })));
  assert.equal(manager.ps()[0]?.expiresAt, null);
  assert.equal(manager.getModelStatus(models.ggufEmbedding)?.keepAliveMinutes, -1);
  // A later request's keepAlive applies to the loaded model.
  dataOf(await manager.task(embed(models.ggufEmbedding, { keepAlive: '1h' })));
  assert.equal(manager.getModelStatus(models.ggufEmbedding)?.keepAliveMinutes, 60);
  dataOf(await manager.task(embed(models.ggufEmbedding, { keepAlive: 0 })));
  assert.equal(manager.ps().length, 0);
});

test('shutdown during a load stops it cleanly: the request fails or finishes, nothing stays loaded', async () => {
  const manager = await create();
  const pending = manager.task({ taskData: 'hi', taskType: 'text_generation', modelName: models.ggufLlama, maxTokens: 2 });
  await manager.shutdown();
  const result = await pending;
  if (!result.success) assert.equal(result.error.code, 'SHUTTING_DOWN');
  assert.equal(manager.ps().length, 0);
  assert.equal(manager.getStatus().loading, 0);
});

test('releaseModel frees at once and forgets the config: the next request may use other workers', async () => {
  await using manager = await create();
  dataOf(await manager.task({ taskData: null, taskType: 'embedding', modelName: models.onnxEmbedding, numWorkers: 2, keepAlive: -1 }));
  assert.equal(manager.ps()[0]?.workers, 2);
  // Same model, other config while loaded: the loaded instances are reused.
  dataOf(await manager.task(embed(models.onnxEmbedding, { numWorkers: 1 })));
  assert.equal(manager.ps()[0]?.workers, 2);
  assert.equal(await manager.releaseModel(models.onnxEmbedding), true);
  assert.equal(manager.ps().length, 0);
  assert.equal(await manager.releaseModel(models.onnxEmbedding), false);
  dataOf(await manager.task(embed(models.onnxEmbedding, { numWorkers: 1 })));
  assert.equal(manager.ps()[0]?.workers, 1);
});

test('releaseModel with other references held only drops one, unless forced', async () => {
  await using manager = await create();
  const a = await manager.getModel(models.onnxEmbedding);
  await manager.getModel(models.onnxEmbedding);
  assert.equal(await manager.releaseModel(models.onnxEmbedding), false);
  assert.equal(manager.ps()[0]?.refs, 1);
  assert.equal(await manager.releaseModel(models.onnxEmbedding, { force: true }), true);
  assert.equal(manager.ps().length, 0);
  a.release(); // a late release of a freed model is harmless
  assert.equal(manager.getStatus().loaded, 0);
});

test('a request while the model is being released waits for it, then gets a fresh load', async () => {
  await using manager = await create();
  dataOf(await manager.task(embed(models.onnxEmbedding)));
  const [released, next] = await Promise.all([manager.releaseModel(models.onnxEmbedding), manager.task(embed(models.onnxEmbedding, { taskData: ['other'] }))]);
  assert.equal(released, true);
  assert.equal(next.success, true);
});

test('the memory budget evicts idle models, least recently used first', async () => {
  // Budget room for two of the three tiny models (costs estimated before each load).
  const probe = await create();
  const sizes: number[] = [];
  for (const m of [models.onnxEmbedding, models.ggufEmbedding, models.ggufLlama]) {
    dataOf(await probe.task({ taskData: null, taskType: 'embedding', modelName: m }));
    sizes.push(Math.max(probe.getModelStatus(m)!.sizeBytes, probe.getModelStatus(m)!.estimatedBytes));
  }
  await probe.shutdown();
  const sorted = [...sizes].sort((x, y) => x - y);
  const budget = sorted[1]! + sorted[2]! + 1; // any two fit, all three do not

  await using manager = await create({ memoryBudgetBytes: budget });
  dataOf(await manager.task(embed(models.onnxEmbedding)));
  dataOf(await manager.task(embed(models.ggufEmbedding)));
  dataOf(await manager.task(embed(models.onnxEmbedding))); // onnx is now the most recently used
  dataOf(await manager.task(embed(models.ggufLlama)));
  const loaded = manager.ps().map((m) => m.name).sort();
  assert.deepEqual(loaded, [models.ggufLlama, models.onnxEmbedding].sort());
  assert.equal(manager.getStatus().counters.evictions, 1);
  assert.ok(manager.getStatus().memory.usedBytes <= budget);
});

test('a model that cannot fit because the others are in use fails OUT_OF_MEMORY, and loads once room is made', async () => {
  const probe = await create();
  const sizes: number[] = [];
  for (const m of [models.onnxEmbedding, models.ggufEmbedding]) {
    dataOf(await probe.task({ taskData: null, taskType: 'embedding', modelName: m }));
    sizes.push(Math.max(probe.getModelStatus(m)!.sizeBytes, probe.getModelStatus(m)!.estimatedBytes));
  }
  await probe.shutdown();

  // Room for either model, not both.
  await using manager = await create({ memoryBudgetBytes: Math.max(...sizes) + 1 });
  const held = await manager.getModel(models.ggufEmbedding);
  const refused = await manager.task(embed(models.onnxEmbedding));
  assert.equal(refused.success, false);
  if (!refused.success) {
    assert.equal(refused.error.code, 'OUT_OF_MEMORY');
    assert.match(refused.error.message, /release a model or raise memoryBudgetBytes/);
  }
  assert.equal(manager.ps().length, 1, 'the held model is untouched');
  held.release();
  dataOf(await manager.task(embed(models.onnxEmbedding)));
  assert.deepEqual(manager.ps().map((m) => m.name), [models.onnxEmbedding]);
  assert.equal(manager.getStatus().counters.evictions, 1);
});

test('maxLoadedModels evicts the idle model, and refuses when all are in use', async () => {
  await using manager = await create({ maxLoadedModels: 1 });
  dataOf(await manager.task(embed(models.onnxEmbedding)));
  dataOf(await manager.task(embed(models.ggufEmbedding)));
  assert.deepEqual(manager.ps().map((m) => m.name), [models.ggufEmbedding]);
  const held = await manager.getModel(models.ggufEmbedding);
  const refused = await manager.task(embed(models.onnxEmbedding));
  assert.equal(refused.success ? '' : refused.error.code, 'OUT_OF_MEMORY');
  held.release();
});

test('past maxQueue waiting requests, new ones get QUEUE_FULL at once; the rest are served', async () => {
  await using manager = await create({ maxQueue: 2, embeddingCache: { maxEntries: 0 } });
  // All arrive while the model loads, so they all wait.
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => manager.task(embed(models.ggufLlama, { taskData: [`t${i}`] }))));
  const codes = results.map((r) => (r.success ? 'ok' : r.error.code));
  assert.equal(codes.filter((c) => c === 'ok').length, 2, codes.join(','));
  assert.equal(codes.filter((c) => c === 'QUEUE_FULL').length, 4, codes.join(','));
  // Once the queue drained, the model takes requests again.
  assert.equal((await manager.task(embed(models.ggufLlama))).success, true);
});

test('shutdown frees every model and refuses new work; it is idempotent', async () => {
  const manager = await create();
  dataOf(await manager.task(embed(models.onnxEmbedding, { keepAlive: -1 })));
  dataOf(await manager.task(embed(models.ggufEmbedding, { keepAlive: -1 })));
  await manager.shutdown();
  assert.equal(manager.ps().length, 0);
  const refused = await manager.task(embed(models.onnxEmbedding));
  assert.equal(refused.success ? '' : refused.error.code, 'SHUTTING_DOWN');
  await manager.shutdown();
  await manager[Symbol.asyncDispose]();
  assert.equal(manager.getStatus().shuttingDown, true);
});

test('the status reports loaded models and their queue', async () => {
  await using manager = await create();
  const data = dataOf<EmbeddingTaskOutput>(await manager.task(embed(models.onnxEmbedding)));
  const status = manager.getStatus();
  assert.equal(status.loaded, 1);
  assert.equal(status.queueDepth, 0);
  assert.equal(status.models[0]?.requests, 1);
  assert.equal(status.models[0]?.device, 'cpu');
  assert.ok(data.dimensions > 0);
});
