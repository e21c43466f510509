/**
 * Configured models over HTTP: a name from the server's settings works in /api/task, the OpenAI
 * routes and release, with its own task type; access follows the model it loads, so a configured
 * name is no way around a hidden model. The real ModelManager on generated ONNX embedders.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, ModelManager, createApiKey, writeTestModel } from '../../src/index.js';
import { model, startHarness } from './harness.js';

const reader = createApiKey({ user: 'rita', role: 'reader' });
const writer = createApiKey({ user: 'will', role: 'writer' });
const admin = createApiKey({ user: 'ada', role: 'admin' });
const auth = ApiKeys.fromRecords([reader.record, writer.record, admin.record]);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

test('a configured name runs over /api/task, /v1/embeddings and release; a hidden model behind one stays hidden', async () => {
  let paths: { open: string; hidden: string } | undefined;
  await using h = await startHarness({ auth }, [], async ({ modelsDir, registry, dir }) => {
    const [open, hidden] = await Promise.all([
      writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir, 'outside', 'embedder') }),
      writeTestModel({ format: 'onnx', task: 'embedding', out: join(modelsDir, 'hidden') }),
    ]);
    paths = { open: open.path, hidden: hidden.path };
    await registry.addModel(model('adm/hidden', { modelType: 'embedding_model', format: 'onnx', localPath: hidden.path, accessLevel: 'admin_only' }));
    const runtime = await ModelManager.create({
      registry, modelRoots: [modelsDir], gpuCount: 0, settings: false,
      models: {
        // Outside the model roots and not registered: the admin's settings put it there.
        embedding: { type: 'embedding', localPath: open.path },
        secret: { type: 'embedding', name: 'adm/hidden' },
        'secret-path': { type: 'embedding', localPath: hidden.path },
      },
    });
    return { options: { runtime }, close: () => runtime.shutdown() };
  });
  assert.ok(paths);

  const task = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(reader.key), payload: { modelName: 'embedding', taskData: ['hello'] } });
  assert.equal(task.statusCode, 200, task.body);
  assert.equal(task.json().data.model, 'embedding');
  assert.equal(task.json().data.embeddings.length, 1);

  const v1 = await h.app.inject({ method: 'POST', url: '/v1/embeddings', headers: as(reader.key), payload: { model: 'embedding', input: ['a', 'b'] } });
  assert.equal(v1.statusCode, 200, v1.body);
  assert.deepEqual([v1.json().model, v1.json().data.length], ['embedding', 2]);

  const wrong = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(reader.key), payload: { modelName: 'embedding', taskType: 'text_generation', taskData: 'hi' } });
  assert.equal(wrong.statusCode, 400);
  assert.equal(wrong.json().error.code, 'INVALID_MODEL_TYPE');

  const listed = (await h.app.inject({ url: '/v1/models', headers: as(reader.key) })).json().data.map((m: { id: string }) => m.id);
  assert.deepEqual(listed, ['embedding']);
  assert.equal((await h.app.inject({ url: '/v1/models/embedding', headers: as(reader.key) })).json().id, 'embedding');
  assert.equal((await h.app.inject({ url: '/v1/models/secret', headers: as(reader.key) })).statusCode, 404);

  // The hidden model, by its id or by its files, is not there for the reader, and nothing loads for it.
  for (const name of ['secret', 'secret-path']) {
    const hidden = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(reader.key), payload: { modelName: name, taskData: ['x'] } });
    assert.equal(hidden.statusCode, 404, `${name}: ${hidden.body}`);
    assert.equal(hidden.json().error.code, 'MODEL_NOT_FOUND');
    assert.ok(!hidden.body.includes(paths.hidden) && !hidden.body.includes('adm/hidden'), hidden.body);
  }
  const ps = async () => (await h.app.inject({ url: '/api/ps', headers: as(admin.key) })).json().models.map((m: { name: string }) => m.name).sort();
  assert.deepEqual(await ps(), ['embedding']);
  const byAdmin = await h.app.inject({ method: 'POST', url: '/api/task', headers: as(admin.key), payload: { modelName: 'secret', taskData: ['x'] } });
  assert.equal(byAdmin.statusCode, 200, byAdmin.body);
  assert.deepEqual((await h.app.inject({ url: '/v1/models', headers: as(admin.key) })).json().data.slice(0, 3).map((m: { id: string }) => m.id), ['embedding', 'secret', 'secret-path']);

  const released = await h.app.inject({ method: 'POST', url: '/api/models/embedding/release', headers: as(writer.key), payload: {} });
  assert.equal(released.statusCode, 200, released.body);
  assert.equal(released.json().released, true);
  assert.deepEqual(await ps(), ['secret']);
});
