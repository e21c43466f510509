import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, createApiKey, validateModel, type DiscoveryService, type ModelMetadata, type ModelMetadataInput, type Registry } from '../../src/index.js';
import { model, startHarness } from './harness.js';

/**
 * Discovery reduced to what the routes call, writing to the real registry; it stands in until
 * the real Discovery is merged (then runs alongside the tests against it).
 */
function recordingDiscovery(registry: Registry) {
  const calls: { method: string; args: unknown[] }[] = [];
  const service: DiscoveryService = {
    async refresh(options) {
      calls.push({ method: 'refresh', args: [options] });
      const now = new Date().toISOString();
      return { scanId: 's1', startedAt: now, finishedAt: now, durationMs: 5, roots: options?.roots ?? [], counts: { scanned: 1, added: 0, updated: 0, unchanged: 1, missing: 0, warnings: 0 }, warnings: [], modelIds: [] };
    },
    status: () => ({ running: false, roots: ['/models'] }),
    async logs(options) {
      calls.push({ method: 'logs', args: [options] });
      return [{ at: new Date().toISOString(), level: 'warn', path: '/models/x', message: 'unreadable header', scanId: 's1' }];
    },
    discovered: async () => (await registry.listModels()).filter((m) => m.source === 'discovered'),
    async register(path: string, overrides?: Partial<ModelMetadataInput>): Promise<ModelMetadata> {
      calls.push({ method: 'register', args: [path, overrides] });
      return registry.addModel(validateModel({ modelId: `local/${path.split('/').pop()}`, modelType: 'decoder_only', source: 'discovered', localPath: path, ...overrides }));
    },
    validate: async (modelId) => ({ modelId, ok: true, checks: [{ name: 'files', ok: true, message: 'all present' }] }),
  };
  return { service, calls };
}

const writer = createApiKey({ user: 'w', role: 'writer' });
const reader = createApiKey({ user: 'r', role: 'reader' });
const auth = ApiKeys.fromRecords([writer.record, reader.record]);
const as = (key: string) => ({ authorization: `Bearer ${key}` });

test('register takes a path inside the roots (resolved), refuses others before discovery sees them', async () => {
  const ref: { current?: ReturnType<typeof recordingDiscovery> } = {};
  await using h = await startHarness({ auth, discovery: lazy(() => ref.current!.service) }, []);
  const discovery = (ref.current = recordingDiscovery(h.registry));
  mkdirSync(join(h.modelsDir, 'tiny-llama'));
  const outside = join(h.dir, 'outside');
  mkdirSync(outside);
  symlinkSync(outside, join(h.modelsDir, 'link-out'));

  const ok = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key),
    payload: { path: `${h.modelsDir}/./tiny-llama`, name: 'custom-model', modalities: ['TEXT'], capabilities: ['CHAT'] } });
  assert.equal(ok.statusCode, 201);
  assert.equal(ok.json().modelName, 'custom-model');
  assert.deepEqual(ok.json().modalities, ['text']);
  assert.equal(discovery.calls[0]!.args[0], realpathSync(join(h.modelsDir, 'tiny-llama')));

  for (const path of [`${h.modelsDir}/../outside`, join(h.modelsDir, 'link-out'), '/etc']) {
    const res = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path } });
    assert.equal(res.statusCode, 403, path);
    assert.equal(res.json().error.code, 'PATH_NOT_ALLOWED');
  }
  const refresh = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(writer.key), payload: { roots: [outside] } });
  assert.equal(refresh.statusCode, 403);
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(reader.key), payload: { path: join(h.modelsDir, 'tiny-llama') } })).statusCode, 403);
  assert.deepEqual(discovery.calls.map((c) => c.method), ['register']);
});

test('status, logs, discovered, validate and refresh pass through; hidden models stay hidden', async () => {
  const ref: { current?: ReturnType<typeof recordingDiscovery> } = {};
  await using h = await startHarness({ auth, discovery: lazy(() => ref.current!.service) }, [
    model('local/seen', { source: 'discovered' }),
    model('local/hidden', { source: 'discovered', accessLevel: 'admin_only' }),
  ]);
  const discovery = (ref.current = recordingDiscovery(h.registry));
  assert.equal((await h.app.inject({ url: '/api/models/discovery/status', headers: as(reader.key) })).json().running, false);
  const logs = (await h.app.inject({ url: '/api/models/discovery/logs?limit=5', headers: as(reader.key) })).json();
  assert.equal(logs.logs[0].level, 'warn');
  assert.deepEqual(discovery.calls.at(-1)!.args, [{ limit: 5 }]);
  const found = (await h.app.inject({ url: '/api/models/discovered', headers: as(reader.key) })).json();
  assert.deepEqual(found.models.map((m: { modelId: string }) => m.modelId), ['local/seen']);
  assert.equal((await h.app.inject({ url: '/api/models/local/hidden/validate', headers: as(reader.key) })).statusCode, 404);
  assert.equal((await h.app.inject({ url: '/api/models/local/seen/validate', headers: as(reader.key) })).json().ok, true);
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(reader.key) })).statusCode, 403);
  const scan = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', headers: as(writer.key) });
  assert.equal(scan.statusCode, 200);
  assert.equal(scan.json().counts.scanned, 1);
});

/** Discovery needs the registry the harness opens; this defers to it once made. */
function lazy(get: () => DiscoveryService): DiscoveryService {
  return {
    refresh: (o) => get().refresh(o), status: () => get().status(), logs: (o) => get().logs(o), discovered: () => get().discovered(),
    register: (p, o) => get().register(p, o), validate: (id) => get().validate(id),
  };
}

test('register refuses a localPath override outside the roots', async () => {
  const ref: { current?: ReturnType<typeof recordingDiscovery> } = {};
  await using h = await startHarness({ auth, discovery: lazy(() => ref.current!.service) }, []);
  const discovery = (ref.current = recordingDiscovery(h.registry));
  mkdirSync(join(h.modelsDir, 'ok'));
  const res = await h.app.inject({ method: 'POST', url: '/api/models/register', headers: as(writer.key), payload: { path: join(h.modelsDir, 'ok'), metadata: { localPath: '/etc' } } });
  assert.equal(res.statusCode, 403);
  assert.deepEqual(discovery.calls, []);
});
