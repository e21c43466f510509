/**
 * `POST /api/pull` (NDJSON progress) and hub ids on first use through `/api/task` and `/v1/*`:
 * the real server with a real ModelManager, against the hub stand-in on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiKeys, ModelManager, Registry, createApiKey, createServer, loadConfig } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';
import type { HubFile } from './hub-content.js';
import { startHubServer, type HubServer } from './hub-server.js';
import { generatedModel, randomFile } from './pull-repos.js';

const SHA = '4'.repeat(40);
const MB = 1024 * 1024;
const reader = createApiKey({ user: 'rita', role: 'reader' });
const writer = createApiKey({ user: 'will', role: 'writer' });

let hub: HubServer;
let embed: Record<string, HubFile>;
const scratch = tempDir('mm-pull-server-models-');

before(async () => {
  embed = await generatedModel(scratch.path, 'onnx', 'embedding');
  hub = await startHubServer([
    { id: 'acme/tiny-embed', sha: SHA, pipelineTag: 'feature-extraction', files: { ...embed, 'onnx/model.onnx_data': randomFile(3 * MB) } },
    { id: 'acme/gated', sha: SHA, gated: true, files: { 'model.gguf': randomFile(MB) } },
  ]);
});
after(async () => {
  await hub.close();
  scratch[Symbol.dispose]();
});

async function serve(dir: string, withKeys: boolean) {
  const config = loadConfig({ MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: hub.url });
  const registry = await Registry.open({ instance: await SqliteStore.open(join(dir, 'registry.db')) });
  const runtime = await ModelManager.create({ registry, hubCache: config.hf.hubCache, autoPull: true, pull: { config }, gpuCount: 0, defaultKeepAlive: 0 });
  const app = await createServer({ registry, runtime, ...(withKeys ? { auth: ApiKeys.fromRecords([reader.record, writer.record]) } : {}) });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url, registry,
    post: (path: string, body: unknown, key?: string) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) }),
    [Symbol.asyncDispose]: async () => {
      await app.close();
      await runtime.shutdown();
      await registry.close();
    },
  };
}

describe('POST /api/pull', () => {
  it('streams NDJSON progress that never goes backwards, ends with the registered id, and the model then runs through /v1/embeddings', async () => {
    using tmp = tempDir();
    await using server = await serve(tmp.path, false);
    const response = await server.post('/api/pull', { model: 'acme/tiny-embed' });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as { status: string; file?: string; completed?: number; total?: number; modelId?: string });
    assert.equal(lines.find((l) => l.status === 'pulling')?.total, lines.at(-1) && (lines.at(-1) as { totalBytes?: number }).totalBytes);
    const seen = new Map<string, number>();
    for (const l of lines.filter((x) => x.status === 'downloading')) {
      assert.ok(l.completed! >= (seen.get(l.file!) ?? 0));
      assert.ok(l.completed! <= l.total!);
      seen.set(l.file!, l.completed!);
    }
    assert.equal(seen.get('onnx/model.onnx_data'), 3 * MB);
    assert.deepEqual([lines.at(-1)?.status, lines.at(-1)?.modelId], ['success', 'acme/tiny-embed']);
    assert.equal((await server.registry.getModel('acme/tiny-embed'))?.revision, SHA);

    const embedded = await server.post('/v1/embeddings', { model: 'acme/tiny-embed', input: 'hello' });
    assert.equal(embedded.status, 200, await embedded.clone().text());
    assert.equal(((await embedded.json()) as { data: unknown[] }).data.length, 1);
  });

  it('answers failures before the first bytes as plain HTTP errors: gated 401 AUTH_REQUIRED, unknown 404; stream:false gives one JSON answer', async () => {
    using tmp = tempDir();
    await using server = await serve(tmp.path, false);
    const gated = await server.post('/api/pull', { model: 'acme/gated' });
    assert.equal(gated.status, 401);
    assert.equal(((await gated.json()) as { error: { code: string } }).error.code, 'AUTH_REQUIRED');
    const unknown = await server.post('/api/pull', { model: 'acme/nope' });
    assert.equal(unknown.status, 404);
    const whole = await server.post('/api/pull', { model: 'acme/tiny-embed', stream: false, dryRun: true });
    assert.equal(whole.status, 200);
    const body = (await whole.json()) as { status: string; dryRun: boolean; files: { state: string }[] };
    assert.deepEqual([body.status, body.dryRun], ['success', true]);
    assert.ok(body.files.every((f) => f.state === 'missing'));
  });
});

describe('hub ids on first use over HTTP', () => {
  it('/api/task pulls a hub id for a writer, and refuses readers with the 404 of a missing model, downloading nothing', async () => {
    using tmp = tempDir();
    await using server = await serve(tmp.path, true);
    const before = hub.sentBytes('onnx/model.onnx');
    const refused = await server.post('/api/task', { taskData: ['hi'], taskType: 'embedding', modelName: 'acme/tiny-embed' }, reader.key);
    assert.equal(refused.status, 404);
    assert.equal(hub.sentBytes('onnx/model.onnx'), before);
    const pullByReader = await server.post('/api/pull', { model: 'acme/tiny-embed' }, reader.key);
    assert.equal(pullByReader.status, 403);

    const ran = await server.post('/api/task', { taskData: ['hi'], taskType: 'embedding', modelName: 'acme/tiny-embed' }, writer.key);
    assert.equal(ran.status, 200, await ran.clone().text());
    assert.equal(((await ran.json()) as { data: { embeddings: number[][] } }).data.embeddings.length, 1);
    // Now registered (public): a reader runs it too.
    const byReader = await server.post('/api/task', { taskData: ['hi'], taskType: 'embedding', modelName: 'acme/tiny-embed' }, reader.key);
    assert.equal(byReader.status, 200);
  });
});

describe('pulls and hidden models', () => {
  it('a writer cannot pull over a model hidden from them, however the hub id is spelled: the 404 of a missing model, nothing downloaded, the record untouched', async () => {
    using tmp = tempDir();
    await using server = await serve(tmp.path, true);
    await server.registry.addModel({ modelId: 'acme/tiny-embed', modelType: 'embedding_model', accessLevel: 'admin_only', description: 'the admin\'s' });
    const before = hub.sentBytes('onnx/model.onnx');
    for (const model of ['acme/tiny-embed', 'acme/tiny-embed:fp32', 'hf.co/acme/tiny-embed']) {
      const pulled = await server.post('/api/pull', { model, stream: false }, writer.key);
      assert.equal(pulled.status, 404, `${model}: ${await pulled.clone().text()}`);
      assert.equal(((await pulled.json()) as { error: { code: string } }).error.code, 'MODEL_NOT_FOUND');
      const ran = await server.post('/api/task', { taskData: ['hi'], taskType: 'embedding', modelName: model }, writer.key);
      assert.equal(ran.status, 404, `${model}: ${await ran.clone().text()}`);
    }
    assert.equal(hub.sentBytes('onnx/model.onnx'), before, 'nothing was downloaded');
    const stored = await server.registry.getModel('acme/tiny-embed');
    assert.deepEqual([stored?.localPath, stored?.accessLevel, stored?.description], [undefined, 'admin_only', 'the admin\'s']);
  });
});
