/**
 * A model a caller may not see stays out of reach by every side road: its old versions and
 * aliases, its folder registered again, a rollback to a version the caller could not write, an
 * alias named like an Object method, a 409, a path outside the roots, the scan log.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, createApiKey, writeTestModel } from '../../src/index.js';
import { model, startHarness, startHarnessWithDiscovery, type Harness } from './harness.js';

const reader = createApiKey({ user: 'rita', role: 'reader', groups: ['research'] });
const writer = createApiKey({ user: 'will', role: 'writer', groups: ['developers'] });
const admin = createApiKey({ user: 'ada', role: 'admin' });
const auth = ApiKeys.fromRecords([reader.record, writer.record, admin.record]);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

const withDiscovery = (models: Parameters<typeof startHarness>[1] = []): Promise<Harness> => startHarnessWithDiscovery({ auth }, models);

test('an old version or alias of a model that is hidden now is hidden too', async () => {
  await using h = await startHarness({ auth }, [model('adm/hist', { description: 'was public' })]);
  await h.registry.updateModel('adm/hist', { accessLevel: 'admin_only', description: 'now admin only' });
  await h.registry.setAlias('adm/hist', 'prod', 1);
  const absent = await h.app.inject({ url: '/api/models/adm%2Fnever@1', headers: as(reader.key) });
  for (const name of ['adm%2Fhist@1', 'adm/hist@1', 'adm%2Fhist@prod', 'adm%2Fhist@2', 'adm%2Fhist']) {
    const res = await h.app.inject({ url: `/api/models/${name}`, headers: as(reader.key) });
    assert.equal(res.statusCode, 404, name);
    assert.equal(res.json().error.code, 'MODEL_NOT_FOUND');
    assert.ok(!res.body.includes('was public'), `${name} shows nothing of the record`);
    for (const url of [`/api/models/${name}/metrics`, `/v1/models/${name}`]) {
      assert.equal((await h.app.inject({ url, headers: as(reader.key) })).statusCode, 404, url);
    }
  }
  const hidden = await h.app.inject({ url: '/api/models/adm%2Fhist@1', headers: as(reader.key) });
  assert.equal(hidden.body.replaceAll('hist', 'X'), absent.body.replaceAll('never', 'X'), 'hidden and absent look the same');
  const byAdmin = await h.app.inject({ url: '/api/models/adm%2Fhist@prod', headers: as(admin.key) });
  assert.equal(byAdmin.statusCode, 200);
  assert.equal(byAdmin.json().description, 'was public', 'the admin reads the old version');
});

test('a version or alias named like an Object method is simply not there (404, not 500)', async () => {
  await using h = await startHarness({ auth }, [model('org/open')]);
  for (const ref of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
    const res = await h.app.inject({ url: `/api/models/org%2Fopen@${ref}`, headers: as(admin.key) });
    assert.equal(res.statusCode, 404, ref);
    assert.equal(res.json().error.code, 'MODEL_NOT_FOUND');
    const rollback = await h.app.inject({ method: 'POST', url: '/api/models/org/open/rollback', headers: as(admin.key), payload: { version: ref } });
    assert.equal(rollback.statusCode, 404, `rollback to ${ref}`);
    assert.equal(rollback.json().error.code, 'VERSION_NOT_FOUND');
  }
  assert.equal((await h.registry.listVersions('org/open')).length, 1, 'no rollback was written');
});

test('a refused rollback writes nothing', async () => {
  await using h = await startHarness({ auth }, [model('org/shared', { accessLevel: 'restricted', groups: ['research'] })]);
  await h.registry.updateModel('org/shared', { accessLevel: 'public', groups: [] });
  const refused = await h.app.inject({ method: 'POST', url: '/api/models/org%2Fshared/rollback', headers: as(writer.key), payload: { version: 1 } });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json().error.code, 'FORBIDDEN');
  assert.equal((await h.registry.listVersions('org/shared')).length, 2, 'no version was added');
  assert.equal((await h.registry.getModel('org/shared'))?.accessLevel, 'public');
  const allowed = await h.app.inject({ method: 'POST', url: '/api/models/org%2Fshared/rollback', headers: as(admin.key), payload: { version: 1 } });
  assert.equal(allowed.statusCode, 200);
  assert.equal(allowed.json().accessLevel, 'restricted');
});

test('a hidden model\'s folder cannot be registered again, under its id or another', async () => {
  await using h = await withDiscovery();
  const secret = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.modelsDir, 'secret-llm') });
  const admins = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(admin.key), payload: { path: secret.path, modelId: 'adm/secret', metadata: { accessLevel: 'admin_only' } } });
  assert.equal(admins.statusCode, 201, admins.body);
  const before = await h.registry.getModel('adm/secret');
  mkdirSync(join(h.modelsDir, 'nothing-here'));

  const register = (path: string, extra: object = {}) =>
    h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path, ...extra } });
  const missing = await register(join(h.modelsDir, 'no-such-folder'));
  assert.equal(missing.statusCode, 404);
  const weights = secret.files.find((f) => f.endsWith('.gguf'))!;
  for (const [path, extra] of [[secret.path, {}], [secret.path, { modelId: 'will/mine' }], [join(secret.path, weights), { modelId: 'will/file' }], [h.modelsDir, {}]] as const) {
    const res = await register(path, extra);
    assert.equal(res.statusCode, 404, `${path} ${JSON.stringify(extra)}`);
    assert.equal(res.body.replaceAll(path, 'P'), missing.body.replaceAll(join(h.modelsDir, 'no-such-folder'), 'P'), 'answered as a path with nothing there');
  }
  const added = await h.app.inject({ method: 'POST', url: '/api/models', headers: as(writer.key), payload: model('will/alias', { localPath: secret.path }) });
  assert.equal(added.statusCode, 404, 'nor added by hand with its path');
  assert.equal(added.json().error.code, 'FILE_NOT_FOUND');
  assert.deepEqual(await h.registry.getModel('adm/secret'), before, 'the hidden record is untouched');
  assert.deepEqual((await h.registry.listModels()).map((m) => m.modelId), ['adm/secret'], 'nothing was registered');
  const rescan = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(admin.key), payload: {} });
  assert.equal(rescan.statusCode, 200);
  assert.notEqual((await h.registry.getModel('adm/secret'))?.status, 'missing', 'the admin\'s model is still found where it is');
});

test('an id held by a hidden model is answered as taken, and nothing more', async () => {
  await using h = await withDiscovery([model('adm/nopath', { accessLevel: 'admin_only', description: 'kept' })]);
  const secret = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.modelsDir, 'secret-llm') });
  await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(admin.key), payload: { path: secret.path, modelId: 'adm/secret', metadata: { accessLevel: 'admin_only' } } });
  const mine = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.modelsDir, 'mine') });
  for (const id of ['adm/secret', 'adm/nopath']) {
    const res = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path: mine.path, modelId: id } });
    assert.equal(res.statusCode, 409, id);
    assert.equal(res.json().error.code, 'MODEL_EXISTS');
    assert.ok(!res.body.includes(secret.path) && !res.body.includes('secret-llm'), `${id}: the hidden model's path is not told`);
    assert.deepEqual(Object.keys(res.json().error.details), ['modelId']);
  }
  assert.equal((await h.registry.getModel('adm/nopath'))?.description, 'kept', 'the hidden record is untouched');
  assert.equal((await h.registry.getModel('adm/nopath'))?.localPath, undefined);
  assert.equal((await h.registry.listVersions('adm/nopath')).length, 1);
  const added = await h.app.inject({ method: 'POST', url: '/api/models', headers: as(writer.key), payload: model('adm/nopath') });
  assert.equal(added.statusCode, 409);
  assert.ok(!added.body.includes('kept'));
});

test('outside the model roots, a path that exists and one that does not get the same answer', async () => {
  await using h = await withDiscovery();
  mkdirSync(join(h.dir, 'elsewhere'));
  const answers = [];
  for (const path of ['/etc', '/no-such-dir-anywhere', join(h.dir, 'elsewhere'), join(h.dir, 'elsewhere-not'), '/etc/passwd', '/etc/no-such-file', `${h.modelsDir}/../elsewhere`, `${h.modelsDir}/../nowhere/x`]) {
    const res = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path } });
    assert.equal(res.statusCode, 403, path);
    answers.push(res.body.replaceAll(JSON.stringify(path).slice(1, -1), 'P'));
    const add = await h.app.inject({ method: 'POST', url: '/api/models', headers: as(writer.key), payload: model('org/x', { localPath: path }) });
    assert.equal(add.statusCode, 403, `add ${path}`);
  }
  assert.equal(new Set(answers).size, 1, 'one answer for all of them');
});

test('scan logs and reports leave out the models the caller may not see', async () => {
  await using h = await withDiscovery();
  const secret = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(h.modelsDir, 'hush-llm') });
  await writeTestModel({ format: 'onnx', task: 'embedding', out: join(h.modelsDir, 'open-embed') });
  const first = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(admin.key), payload: {} });
  assert.equal(first.statusCode, 200, first.body);
  const hiddenId = (first.json().modelIds as string[]).find((id) => id.includes('hush'))!;
  assert.ok(hiddenId, 'the scan found the model');
  await h.registry.updateModel(hiddenId, { accessLevel: 'admin_only' });
  // The next scan warns about a file inside the hidden model's folder.
  writeFileSync(join(secret.path, 'broken.safetensors'), 'not a header');

  const report = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(writer.key), payload: {} });
  assert.equal(report.statusCode, 200);
  assert.ok(!report.body.includes(hiddenId) && !report.body.includes(secret.path), 'the writer\'s scan report names neither');
  assert.ok(report.json().modelIds.some((id: string) => id.includes('open-embed')), 'the visible model is reported');

  const logsOf = async (key: string) => (await h.app.inject({ url: '/api/models/discovery/logs?limit=1000', headers: as(key) })).body;
  const adminLogs = await logsOf(admin.key);
  assert.ok(adminLogs.includes(hiddenId) && adminLogs.includes(secret.path), 'the admin\'s log names the model and its files');
  for (const key of [reader.key, writer.key]) {
    const logs = await logsOf(key);
    assert.ok(!logs.includes(hiddenId), 'no hidden id');
    assert.ok(!logs.includes(secret.path), 'no hidden path');
    assert.ok(logs.includes('open-embed'), 'the rest of the log is there');
  }
  const short = (await h.app.inject({ url: '/api/models/discovery/logs?limit=2', headers: as(reader.key) })).json().logs;
  assert.equal(short.length, 2, 'a page stays full after hiding');
});
