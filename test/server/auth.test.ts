import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, addApiKey, createApiKey, readKeysFile, removeApiKeys } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { model, startHarness } from './harness.js';

const reader = createApiKey({ user: 'rita', role: 'reader', groups: ['research'] });
const writer = createApiKey({ user: 'will', role: 'writer', groups: ['developers'] });
const admin = createApiKey({ user: 'ada', role: 'admin' });
const auth = ApiKeys.fromRecords([reader.record, writer.record, admin.record]);
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const models = [
  model('org/open'),
  model('org/research-only', { accessLevel: 'restricted', groups: ['research'] }),
  model('org/secret', { accessLevel: 'admin_only', description: 'experimental' }),
];

test('without a key the API answers 401; UI, docs and health stay open', async () => {
  await using h = await startHarness({ auth }, models);
  const res = await h.app.inject('/api/models');
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().error.code, 'UNAUTHORIZED');
  assert.match(String(res.headers['www-authenticate']), /Bearer/);
  const wrong = await h.app.inject({ url: '/api/models', headers: bearer(`${reader.key}x`) });
  assert.equal(wrong.statusCode, 401);
  assert.equal((await h.app.inject({ url: '/v1/models' })).statusCode, 401);
  assert.equal((await h.app.inject({ url: '/metrics' })).statusCode, 401);
  for (const url of ['/health', '/', '/docs/json']) assert.equal((await h.app.inject(url)).statusCode, 200, url);
  const viaHeader = await h.app.inject({ url: '/api/models', headers: { 'x-api-key': reader.key } });
  assert.equal(viaHeader.statusCode, 200);
});

test('hidden models are neither listed, searched, counted nor readable (404, not 403)', async () => {
  await using h = await startHarness({ auth }, models);
  const ids = async (key: string, url = '/api/models') =>
    (await h.app.inject({ url, headers: bearer(key) })).json().models.map((m: { modelId: string }) => m.modelId);
  assert.deepEqual(await ids(reader.key), ['org/open', 'org/research-only']);
  assert.deepEqual(await ids(writer.key), ['org/open']);
  assert.deepEqual(await ids(admin.key), ['org/open', 'org/research-only', 'org/secret']);

  for (const url of ['/api/models/org/secret', '/api/models/org%2Fsecret/versions', '/api/models/org/secret/metrics']) {
    const res = await h.app.inject({ url, headers: bearer(reader.key) });
    assert.equal(res.statusCode, 404, url);
    assert.equal(res.json().error.code, 'MODEL_NOT_FOUND');
    const absent = await h.app.inject({ url: url.replace('secret', 'never-was'), headers: bearer(reader.key) });
    assert.equal(res.body.replaceAll('secret', 'X'), absent.body.replaceAll('never-was', 'X'), 'hidden and absent look the same');
  }
  const search = (await h.app.inject({ url: '/api/search?q=experimental', headers: bearer(reader.key) })).json();
  assert.equal(search.count, 0);
  const stats = (await h.app.inject({ url: '/api/stats', headers: bearer(writer.key) })).json();
  assert.equal(stats.totalModels, 1);
  const openai = (await h.app.inject({ url: '/v1/models', headers: bearer(writer.key) })).json();
  assert.deepEqual(openai.data.map((m: { id: string }) => m.id), ['org/open']);
  for (const url of ['/v1/models/org/open', '/v1/models/org%2Fopen']) {
    const one = await h.app.inject({ url, headers: bearer(writer.key) });
    assert.equal(one.statusCode, 200, url);
    assert.deepEqual([one.json().id, one.json().object], ['org/open', 'model']);
  }
  const hidden = await h.app.inject({ url: '/v1/models/org/secret', headers: bearer(writer.key) });
  assert.equal(hidden.statusCode, 404);
  assert.equal((await h.app.inject({ url: '/v1/models/org/secret', headers: bearer(admin.key) })).json().id, 'org/secret');
});

test('writes need the writer role; only admins make models admin_only or foreign-restricted', async () => {
  await using h = await startHarness({ auth }, models);
  const add = (key: string, payload: object) => h.app.inject({ method: 'POST', url: '/api/models', headers: bearer(key), payload });
  const byReader = await add(reader.key, model('org/new'));
  assert.equal(byReader.statusCode, 403);
  assert.equal(byReader.json().error.code, 'FORBIDDEN');
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/api/models/org/open', headers: bearer(reader.key) })).statusCode, 403);
  assert.equal((await add(writer.key, model('org/new'))).statusCode, 201);
  assert.equal((await add(writer.key, model('org/dev', { accessLevel: 'restricted', groups: ['developers'] }))).statusCode, 201);
  assert.equal((await add(writer.key, model('org/hide', { accessLevel: 'admin_only' }))).statusCode, 403);
  assert.equal((await add(writer.key, model('org/theirs', { accessLevel: 'restricted', groups: ['research'] }))).statusCode, 403);
  const hide = await h.app.inject({ method: 'PUT', url: '/api/models/org/open', headers: bearer(writer.key), payload: { accessLevel: 'admin_only' } });
  assert.equal(hide.statusCode, 403);
  assert.equal((await h.registry.getModel('org/open'))?.accessLevel, 'public', 'the refused write changed nothing');
  const byAdmin = await h.app.inject({ method: 'PUT', url: '/api/models/org/open', headers: bearer(admin.key), payload: { accessLevel: 'admin_only' } });
  assert.equal(byAdmin.statusCode, 200);
  assert.equal((await h.app.inject({ url: '/api/models/org/open', headers: bearer(writer.key) })).statusCode, 404);
});

test('paths are registered only inside the model roots: traversal and symlinks out are refused', async () => {
  await using h = await startHarness({ auth }, []);
  const inside = join(h.modelsDir, 'tiny');
  mkdirSync(inside);
  const outside = join(h.dir, 'elsewhere');
  mkdirSync(outside);
  symlinkSync(outside, join(h.modelsDir, 'escape'));
  const add = (localPath: string, id: string) =>
    h.app.inject({ method: 'POST', url: '/api/models', headers: bearer(writer.key), payload: model(id, { localPath }) });
  const ok = await add(inside, 'org/inside');
  assert.equal(ok.statusCode, 201);
  for (const [path, id] of [[`${h.modelsDir}/../elsewhere`, 'org/a'], [join(h.modelsDir, 'escape'), 'org/b'], ['/etc', 'org/c']] as const) {
    const res = await add(path, id);
    assert.equal(res.statusCode, 403, path);
    assert.equal(res.json().error.code, 'PATH_NOT_ALLOWED');
  }
  const moved = await h.app.inject({ method: 'PUT', url: '/api/models/org/inside', headers: bearer(writer.key), payload: { localPath: join(h.modelsDir, 'escape') } });
  assert.equal(moved.statusCode, 403);
  assert.equal((await add(join(h.modelsDir, 'absent'), 'org/d')).json().error.code, 'FILE_NOT_FOUND');
});

test('each key has its own rate limit; 429 carries Retry-After', async () => {
  await using h = await startHarness({ auth, rateLimit: { max: 3, windowMs: 60_000 } }, models);
  for (let i = 0; i < 3; i++) assert.equal((await h.app.inject({ url: '/api/models', headers: bearer(reader.key) })).statusCode, 200);
  const limited = await h.app.inject({ url: '/api/models', headers: bearer(reader.key) });
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.equal((await h.app.inject({ url: '/api/models', headers: bearer(writer.key) })).statusCode, 200, 'another key is not limited');
  assert.equal((await h.app.inject('/health')).statusCode, 200, 'health is never limited');
});

test('keys file: keys are stored hashed, 0600, and can be removed', async () => {
  using dir = tempDir();
  const file = join(dir.path, 'keys', 'api-keys.json');
  const { key, record } = await addApiKey(file, { user: 'ops', role: 'admin', groups: ['sre'] });
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes(key), 'the key itself is never written');
  assert.match(text, /sha256:[a-f0-9]{64}/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const keys = await ApiKeys.load(file);
  assert.deepEqual(keys.authenticate(key), { user: 'ops', role: 'admin', groups: ['sre'], keyId: record.id });
  assert.equal(await removeApiKeys(file, 'ops'), 1);
  assert.deepEqual(await readKeysFile(file), []);
  writeFileSync(file, '{"keys": [{"id": "nope"}]}');
  await assert.rejects(ApiKeys.load(file), { code: 'INVALID_CONFIG' });
});

test('watched keys follow their file; a malformed file keeps the keys in use and says why', async () => {
  using dir = tempDir();
  const file = join(dir.path, 'keys.json');
  const first = await addApiKey(file, { user: 'ada', role: 'admin' });
  const errors: unknown[] = [];
  const keys = await ApiKeys.watch(file, { intervalMs: 20, onError: (e) => errors.push(e) });
  try {
    const second = await addApiKey(file, { user: 'bob' });
    await waitUntil(() => keys.authenticate(second.key) !== undefined, 'the added key');
    writeFileSync(file, '{"keys": [ half written');
    await waitUntil(() => errors.length > 0, 'the malformed file reported');
    assert.equal(keys.authenticate(first.key)?.user, 'ada', 'the keys in use stay');
    assert.equal(keys.authenticate(second.key)?.user, 'bob');
  } finally {
    keys.close();
  }
});

async function waitUntil(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(done(), `waited 4 s for ${what}`);
}
