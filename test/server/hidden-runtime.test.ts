/**
 * The real ModelManager on a generated ONNX embedder that an admin hid after its first version:
 * no old version of it runs for a reader, and /metrics and /api/system/resources count and name
 * only the models the caller may see.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, ModelManager, createApiKey, writeTestModel } from '../../src/index.js';
import { model, startHarness, type Harness } from './harness.js';

const reader = createApiKey({ user: 'rita', role: 'reader' });
const admin = createApiKey({ user: 'ada', role: 'admin' });
const auth = ApiKeys.fromRecords([reader.record, admin.record]);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** A server with the real runtime, the embedder registered as `adm/hist` (version 1 public, version 2 admin_only) and `org/open`. */
async function withHiddenEmbedder(): Promise<Harness> {
  const h = await startHarness({ auth }, [model('org/open')], async ({ modelsDir, registry }) => {
    const runtime = await ModelManager.create({ registry, modelRoots: [modelsDir], defaultKeepAlive: -1 });
    return { options: { runtime }, close: () => runtime.shutdown() };
  });
  const embedder = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(h.modelsDir, 'embedder') });
  await h.registry.addModel(model('adm/hist', {
    modelType: 'embedding_model', format: 'onnx', localPath: embedder.path, outputs: [{ name: 'e', dataType: 'EMBEDDINGS' }],
  }));
  await h.registry.updateModel('adm/hist', { accessLevel: 'admin_only' });
  await h.registry.setAlias('adm/hist', 'prod', 1);
  return h;
}

const loaded = async (h: Harness) => (await h.app.inject({ url: '/api/ps', headers: as(admin.key) })).json().models.map((m: { model: string }) => m.model);

test('no version or alias of a model hidden now runs for a reader', async () => {
  await using h = await withHiddenEmbedder();
  for (const name of ['adm/hist@1', 'adm/hist@prod', 'adm/hist']) {
    const task = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(reader.key), payload: { taskType: 'embedding', modelName: name, taskData: ['x'] } });
    assert.equal(task.statusCode, 404, `${name}: ${task.body}`);
    assert.equal(task.json().error.code, 'MODEL_NOT_FOUND');
    const v1 = await h.app.inject({ method: 'POST', url: '/v1/embeddings', headers: as(reader.key), payload: { model: name, input: 'x' } });
    assert.equal(v1.statusCode, 404, name);
  }
  assert.deepEqual(await loaded(h), [], 'nothing was loaded for the reader');
  const byAdmin = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(admin.key), payload: { taskType: 'embedding', modelName: 'adm/hist@1', taskData: ['x'] } });
  assert.equal(byAdmin.statusCode, 200, byAdmin.body);
  assert.deepEqual(await loaded(h), ['adm/hist'], 'the same request runs for the admin');
});

test('/metrics and /api/system/resources count and name only the models the caller may see', async () => {
  await using h = await withHiddenEmbedder();
  const run = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(admin.key), payload: { taskType: 'embedding', modelName: 'adm/hist', taskData: ['x'] } });
  assert.equal(run.statusCode, 200, run.body);
  const scrape = async (key: string) => (await h.app.inject({ url: '/metrics', headers: as(key) })).body;
  const sample = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

  const byAdmin = await scrape(admin.key);
  assert.equal(sample(byAdmin, 'mm_registry_models'), 2);
  assert.equal(sample(byAdmin, 'mm_loaded_models'), 1);
  assert.match(byAdmin, /mm_model_queue_depth\{model="adm\/hist"\}/);

  const byReader = await scrape(reader.key);
  assert.ok(!byReader.includes('adm/hist'), 'no label names the hidden model');
  assert.equal(sample(byReader, 'mm_registry_models'), 1);
  assert.equal(sample(byReader, 'mm_loaded_models'), 0);
  assert.equal(sample(byReader, 'mm_loaded_bytes'), 0);

  const resources = async (key: string) => (await h.app.inject({ url: '/api/system/resources', headers: as(key) })).json().runtime;
  assert.equal((await resources(admin.key)).loadedModels, 1);
  assert.ok((await resources(admin.key)).loadedBytes > 0);
  assert.deepEqual(await resources(reader.key), { loadedModels: 0, loadedBytes: 0, vramBytes: 0 });
});
