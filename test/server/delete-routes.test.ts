/**
 * `DELETE /api/models/{id}` does what `mm delete` does: it hides the model and keeps its
 * history, which a rollback restores; `?hard=true` removes both for good, and only an admin may.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKeys, createApiKey } from '../../src/index.js';
import { model, startHarness } from './harness.js';

const writer = createApiKey({ user: 'will', role: 'writer', groups: ['developers'] });
const admin = createApiKey({ user: 'ada', role: 'admin' });
const reader = createApiKey({ user: 'rita', role: 'reader' });
const auth = ApiKeys.fromRecords([writer.record, admin.record, reader.record]);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

test('DELETE hides a model and keeps its history; a rollback restores it', async () => {
  await using h = await startHarness({ auth }, [model('org/kept', { description: 'first' }), model('org/other')]);
  await h.app.inject({ method: 'PUT', url: '/api/models/org/kept', headers: as(writer.key), payload: { description: 'second' } });

  const deleted = await h.app.inject({ method: 'DELETE', url: '/api/models/org/kept', headers: as(writer.key) });
  assert.equal(deleted.statusCode, 200);
  assert.deepEqual(deleted.json(), { modelId: 'org/kept', removed: true, hard: false, restoreVersion: 2 });
  for (const key of [writer.key, admin.key]) {
    assert.equal((await h.app.inject({ url: '/api/models/org/kept', headers: as(key) })).statusCode, 404);
    assert.deepEqual((await h.app.inject({ url: '/api/models', headers: as(key) })).json().models.map((m: { modelId: string }) => m.modelId), ['org/other']);
  }
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/api/models/org/kept', headers: as(writer.key) })).statusCode, 404, 'deleted already');

  const history = (await h.app.inject({ url: '/api/models/org/kept/versions', headers: as(writer.key) })).json();
  assert.equal(history.deleted, true);
  assert.deepEqual(history.versions.map((v: { change: string }) => v.change), ['add', 'update', 'delete']);

  // Adding under its id says what to do instead, in this API's terms.
  const again = await h.app.inject({ method: 'POST', url: '/api/models', headers: as(writer.key), payload: model('org/kept') });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error.code, 'MODEL_EXISTS');
  assert.match(again.json().error.message, /was deleted.*POST \/api\/models\/org\/kept\/rollback \{"version": 2\}.*DELETE \/api\/models\/org\/kept\?hard=true/);

  const restored = await h.app.inject({ method: 'POST', url: '/api/models/org/kept/rollback', headers: as(writer.key), payload: { version: 2 } });
  assert.equal(restored.statusCode, 200);
  assert.equal((await h.app.inject({ url: '/api/models/org/kept', headers: as(reader.key) })).json().description, 'second');
  assert.equal((await h.app.inject({ url: '/api/models/org/kept/versions', headers: as(reader.key) })).json().deleted, false);
});

test('?hard=true removes a model and its history for good, and only an admin may', async () => {
  await using h = await startHarness({ auth }, [model('org/gone'), model('org/secret', { accessLevel: 'admin_only' })]);
  const byWriter = await h.app.inject({ method: 'DELETE', url: '/api/models/org/gone?hard=true', headers: as(writer.key) });
  assert.equal(byWriter.statusCode, 403);
  assert.equal(byWriter.json().error.code, 'FORBIDDEN');
  assert.ok(await h.registry.getModel('org/gone'), 'the refused delete changed nothing');
  for (const query of ['hard=maybe', 'hrad=true']) {
    const res = await h.app.inject({ method: 'DELETE', url: `/api/models/org/gone?${query}`, headers: as(admin.key) });
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.json().error.code, 'INVALID_ARGUMENT');
  }
  assert.ok(await h.registry.getModel('org/gone'), 'a misspelt delete deletes nothing');

  // A deleted model can still be removed for good.
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/api/models/org/gone', headers: as(writer.key) })).statusCode, 200);
  const hard = await h.app.inject({ method: 'DELETE', url: '/api/models/org%2Fgone?hard=true', headers: as(admin.key) });
  assert.deepEqual(hard.json(), { modelId: 'org/gone', removed: true, hard: true });
  assert.equal((await h.app.inject({ url: '/api/models/org/gone/versions', headers: as(admin.key) })).statusCode, 404);
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/models', headers: as(writer.key), payload: model('org/gone') })).statusCode, 201, 'the id is free again');

  // A model the caller may not see, deleted or not, is absent for it.
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/api/models/org/secret', headers: as(admin.key) })).statusCode, 200);
  for (const [method, url] of [['DELETE', '/api/models/org/secret'], ['GET', '/api/models/org/secret/versions']] as const) {
    assert.equal((await h.app.inject({ method, url, headers: as(writer.key) })).statusCode, 404, url);
  }
  const taken = await h.app.inject({ method: 'POST', url: '/api/models', headers: as(writer.key), payload: model('org/secret') });
  assert.equal(taken.statusCode, 409);
  assert.doesNotMatch(taken.json().error.message, /deleted|rollback/, 'a hidden model\'s history is not told');
  const rollback = await h.app.inject({ method: 'POST', url: '/api/models/org/secret/rollback', headers: as(writer.key), payload: { version: 1 } });
  assert.equal(rollback.statusCode, 404);
});
