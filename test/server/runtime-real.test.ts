/**
 * The server with the real Discovery and ModelManager on models generated here (tiny ONNX
 * embedder, tiny GGUF generator): scan, list, embed, generate (streaming too), ps, release,
 * metrics, test-load, validate, and a full queue answering 503 with Retry-After.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ApiKeys, Discovery, ModelManager, Registry, createApiKey, createServer, loadConfig, writeTestModel } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('mm-server-real-');
const modelsDir = join(tmp.path, 'models');
let registry: Registry;
let discovery: Discovery;
let runtime: ModelManager;
let app: FastifyInstance;
let embedId: string;
let genId: string;

before(async () => {
  const embed = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(modelsDir, 'tiny-embed') });
  const gen = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(modelsDir, 'tiny-gen') });
  registry = await Registry.open({ instance: await SqliteStore.open(join(tmp.path, 'registry.db')) });
  discovery = await Discovery.create({ registry, roots: [modelsDir], stateDir: join(tmp.path, 'discovery'), config: loadConfig({ MM_HOME: tmp.path }) });
  runtime = await ModelManager.create({ registry, modelRoots: [modelsDir], maxQueue: 1, defaultKeepAlive: -1 });
  app = await createServer({ registry, discovery, runtime, modelRoots: [modelsDir], keepAliveDefault: '10m' });
  const scan = await app.inject({ method: 'POST', url: '/api/models/discovery/refresh', payload: {} });
  assert.equal(scan.statusCode, 200, scan.body);
  const models = (await app.inject('/api/models/discovered')).json().models as { modelId: string; localPath?: string }[];
  embedId = models.find((m) => m.localPath?.startsWith(embed.path) || m.modelId.includes('tiny-embed'))!.modelId;
  genId = models.find((m) => m.localPath?.startsWith(gen.path) || m.modelId.includes('tiny-gen'))!.modelId;
});

after(async () => {
  await app?.close();
  await runtime?.shutdown();
  await discovery?.close();
  await registry?.close();
  tmp[Symbol.dispose]();
});

test('discovery status and log describe the scan; validate checks the files', async () => {
  const status = (await app.inject('/api/models/discovery/status')).json();
  assert.equal(status.running, false);
  assert.ok(status.lastScan.counts.added >= 2);
  assert.ok(Array.isArray((await app.inject('/api/models/discovery/logs')).json().logs));
  const valid = (await app.inject(`/api/models/${embedId}/validate`)).json();
  assert.equal(valid.ok, true);
});

test('embeddings through /v1/embeddings from the real ONNX model, then ps, metrics and release', async () => {
  const res = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: embedId, input: ['hello world', 'goodbye'] } });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.data.length, 2);
  assert.ok(body.data[0].embedding.length > 0);
  assert.notDeepEqual(body.data[0].embedding, body.data[1].embedding);
  const entryOf = async () => (await app.inject('/api/ps')).json().models.find((m: { model: string }) => m.model === embedId);
  const entry = await entryOf();
  assert.ok(entry);
  assert.ok(entry.size > 0);
  assert.equal(entry.details.format, 'onnx');
  for (const field of ['name', 'model', 'size', 'size_vram', 'digest', 'expires_at', 'details', 'backend', 'device', 'workers', 'refs', 'queue']) {
    assert.ok(field in entry, field);
  }
  const minutesLeft = (Date.parse(entry.expires_at) - Date.now()) / 60_000;
  assert.ok(minutesLeft > 9 && minutesLeft <= 10, `the server-wide keep-alive (10m) applies: ${minutesLeft}`);
  const metrics = (await app.inject('/metrics')).body;
  assert.match(metrics, /^mm_loaded_models [1-9]/m);
  assert.match(metrics, /^mm_queue_depth 0$/m);
  assert.match(metrics, /^mm_model_events_total\{event="loads"\} [1-9]/m);
  assert.match(metrics, /^mm_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/embeddings",le="\+Inf"\} 1$/m);
  assert.match(metrics, /^mm_http_requests_total\{method="POST",route="\/v1\/embeddings",status="200"\} 1$/m);
  const again = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: embedId, input: ['hello world', 'something new'], keep_alive: -1, encoding_format: 'base64' } });
  assert.equal(again.statusCode, 200);
  const decoded = new Float32Array(Uint8Array.from(Buffer.from(again.json().data[0].embedding, 'base64')).buffer);
  assert.deepEqual([...decoded].map((x) => x.toFixed(5)), body.data[0].embedding.map((x: number) => Math.fround(x).toFixed(5)));
  assert.equal((await entryOf()).expires_at, null, 'keep_alive -1 keeps the model');
  assert.match((await app.inject('/metrics')).body, /^mm_embedding_cache_hits_total [1-9]/m);
  const released = (await app.inject({ method: 'POST', url: `/api/models/${embedId}/release` })).json();
  assert.equal(released.released, true);
  assert.equal((await app.inject('/api/ps')).json().models.some((m: { model: string }) => m.model === embedId), false);
});

test('text generation from the real GGUF model, whole and streamed', async () => {
  const whole = await app.inject({ method: 'POST', url: '/v1/completions', payload: { model: genId, prompt: 'ab', max_tokens: 4 } });
  assert.equal(whole.statusCode, 200, whole.body);
  assert.equal(typeof whole.json().choices[0].text, 'string');
  const stream = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: genId, stream: true, max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] } });
  assert.equal(stream.statusCode, 200, stream.body);
  const events = stream.body.split('\n\n').filter(Boolean);
  assert.equal(events.at(-1), 'data: [DONE]');
  assert.ok(events.length >= 2);
});

test('test-load loads and frees the model', async () => {
  const res = await app.inject({ method: 'POST', url: `/api/models/${embedId}/test-load` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().ok, true);
});

test('past the queue limit requests get 503 QUEUE_FULL with Retry-After; the others are answered', async () => {
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
    app.inject({ method: 'POST', url: '/v1/completions', payload: { model: genId, prompt: `p${i}`, max_tokens: 8 } })));
  const statuses = answers.map((a) => a.statusCode);
  assert.ok(statuses.includes(200), String(statuses));
  assert.ok(statuses.includes(503), String(statuses));
  assert.deepEqual([...new Set(statuses)].sort(), [200, 503]);
  const full = answers.find((a) => a.statusCode === 503)!;
  assert.equal(full.json().error.code, 'QUEUE_FULL');
  assert.ok(Number(full.headers['retry-after']) >= 1);
});

test('a model folder generated under the roots is registered through the API and runs', async () => {
  const extra = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(modelsDir, 'extra-embed'), seed: 7 });
  const res = await app.inject({ method: 'POST', url: '/api/models/register', payload: { path: extra.path, modelId: 'local/extra-embed' } });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(res.json().modelId, 'local/extra-embed');
  const run = await app.inject({ method: 'POST', url: '/api/task', payload: { modelName: 'local/extra-embed', taskType: 'embedding', taskData: ['x'], keep_alive: 0 } });
  assert.equal(run.statusCode, 200, run.body);
  assert.ok(run.json().data.embeddings[0].length > 0);
});

test('with keys: a model the caller may not see is neither in /api/ps nor runnable', async () => {
  const reader = createApiKey({ user: 'r', role: 'reader' });
  const admin = createApiKey({ user: 'a', role: 'admin' });
  await using guarded = await createServer({ registry, discovery, runtime, modelRoots: [modelsDir], auth: ApiKeys.fromRecords([reader.record, admin.record]) });
  await registry.updateModel(genId, { accessLevel: 'admin_only' });
  try {
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const asked = await guarded.inject({ method: 'POST', url: '/v1/completions', headers: as(reader.key), payload: { model: genId, prompt: 'a', max_tokens: 2 } });
    assert.equal(asked.statusCode, 404);
    assert.equal(asked.json().error.code, 'MODEL_NOT_FOUND');
    const byAdmin = await guarded.inject({ method: 'POST', url: '/v1/completions', headers: as(admin.key), payload: { model: genId, prompt: 'a', max_tokens: 2, keep_alive: -1 } });
    assert.equal(byAdmin.statusCode, 200, byAdmin.body);
    const seen = (key: string) => guarded.inject({ url: '/api/ps', headers: as(key) }).then((r) => r.json().models.map((m: { model: string }) => m.model));
    assert.ok((await seen(admin.key)).includes(genId));
    assert.ok(!(await seen(reader.key)).includes(genId));
    const models = (await guarded.inject({ url: '/v1/models', headers: as(reader.key) })).json().data.map((m: { id: string }) => m.id);
    assert.ok(models.includes(embedId) && !models.includes(genId));
    const release = await guarded.inject({ method: 'POST', url: `/api/models/${embedId}/release`, headers: as(reader.key) });
    assert.equal(release.statusCode, 403, 'releasing needs the writer role');
  } finally {
    await registry.updateModel(genId, { accessLevel: 'public' });
  }
});

test('a client hanging up mid-stream leaves the server and the model serving', async () => {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const controller = new AbortController();
  const res = await fetch(`${address}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ model: genId, stream: true, prompt: 'x', max_tokens: 64 }),
  });
  assert.equal(res.status, 200);
  await res.body!.getReader().read();
  controller.abort();
  const after = await fetch(`${address}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: genId, prompt: 'y', max_tokens: 4 }) });
  assert.equal(after.status, 200, await after.text());
});
