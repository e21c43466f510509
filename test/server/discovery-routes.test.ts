/**
 * Discovery routes against the real Discovery on generated model folders: paths are checked
 * against the model roots before discovery reads anything, roles and visibility apply.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, createApiKey, writeTestModel } from '../../src/index.js';
import { model, startHarness, startHarnessWithDiscovery, type Harness } from './harness.js';

const writer = createApiKey({ user: 'w', role: 'writer' });
const reader = createApiKey({ user: 'r', role: 'reader' });
const auth = ApiKeys.fromRecords([writer.record, reader.record]);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

const withDiscovery = (models: Parameters<typeof startHarness>[1] = []): Promise<Harness> => startHarnessWithDiscovery({ auth }, models);

test('register takes a model folder inside the roots and refuses others before reading them', async () => {
  await using h = await withDiscovery();
  const written = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.modelsDir, 'tiny-llama') });
  const outside = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.dir, 'outside', 'm') });
  symlinkSync(join(h.dir, 'outside'), join(h.modelsDir, 'link-out'));

  const ok = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key),
    payload: { path: `${h.modelsDir}/./tiny-llama`, modelId: 'local/custom-model', name: 'custom-model', modalities: ['TEXT'], capabilities: ['CHAT'] } });
  assert.equal(ok.statusCode, 201, ok.body);
  assert.equal(ok.json().modelName, 'custom-model');
  assert.deepEqual(ok.json().modalities, ['text']);
  assert.equal(ok.json().localPath, written.path);

  for (const path of [`${h.modelsDir}/../outside/m`, join(h.modelsDir, 'link-out', 'm'), outside.path, '/etc']) {
    const res = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path } });
    assert.equal(res.statusCode, 403, path);
    assert.equal(res.json().error.code, 'PATH_NOT_ALLOWED');
  }
  const override = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path: written.path, metadata: { localPath: '/etc' } } });
  assert.equal(override.statusCode, 403);
  const refresh = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(writer.key), payload: { roots: [join(h.dir, 'outside')] } });
  assert.equal(refresh.statusCode, 403);
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(reader.key), payload: { path: written.path } })).statusCode, 403);
  assert.deepEqual((await h.registry.listModels()).map((m) => m.modelId), ['local/custom-model'], 'nothing from outside the roots was registered');
  const empty = join(h.modelsDir, 'empty');
  mkdirSync(empty);
  const none = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path: empty } });
  assert.equal(none.statusCode, 404);
  assert.equal(none.json().error.code, 'FILE_NOT_FOUND');
});

test('refresh needs a writer; status, logs, discovered and validate hide what the caller may not see', async () => {
  await using h = await withDiscovery([model('org/hidden-manual', { accessLevel: 'admin_only' })]);
  await writeTestModel({ format: 'onnx', task: 'embedding', out: join(h.modelsDir, 'embedder') });
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(reader.key), payload: {} })).statusCode, 403);
  const scan = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(writer.key), payload: {} });
  assert.equal(scan.statusCode, 200, scan.body);
  assert.equal(scan.json().counts.added, 1);
  const [found] = scan.json().modelIds as string[];

  const status = (await h.app.inject({ url: '/api/models/discovery/status', headers: as(reader.key) })).json();
  assert.equal(status.lastScan.scanId, scan.json().scanId);
  const logs = (await h.app.inject({ url: '/api/models/discovery/logs?limit=5', headers: as(reader.key) })).json().logs;
  assert.ok(logs.length > 0 && logs.length <= 5);
  const discovered = (await h.app.inject({ url: '/api/models/discovered', headers: as(reader.key) })).json();
  assert.deepEqual(discovered.models.map((m: { modelId: string }) => m.modelId), [found]);
  assert.equal((await h.app.inject({ url: `/api/models/${found}/validate`, headers: as(reader.key) })).json().ok, true);

  await h.registry.updateModel(found!, { accessLevel: 'admin_only' });
  assert.equal((await h.app.inject({ url: `/api/models/${found}/validate`, headers: as(reader.key) })).statusCode, 404);
  assert.equal((await h.app.inject({ url: '/api/models/discovered', headers: as(reader.key) })).json().count, 0);
});
