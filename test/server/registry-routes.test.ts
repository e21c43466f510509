import assert from 'node:assert/strict';
import { test } from 'node:test';
import { model, startHarness } from './harness.js';

const seed = [
  model('meta/llama-tiny', { parameterCount: 7_000_000_000, attentionType: 'gqa', tags: ['chat', 'test'], modalities: ['text'],
    memoryEstimate: { weightsBytes: 14e9, kvCacheBytesPerToken: 131072, totalBytes: 16e9, context: 4096, batch: 1, dtype: 'f16', method: 'config' } }),
  model('acme/embedder', { modelType: 'embedding_model', format: 'onnx', parameterCount: 22_000_000, attentionType: 'mha',
    outputs: [{ name: 'embedding', dataType: 'EMBEDDINGS' }], description: 'sentence embeddings',
    memoryEstimate: { weightsBytes: 9e7, kvCacheBytesPerToken: 0, totalBytes: 1e8, context: 512, batch: 1, dtype: 'f32', method: 'config' } }),
  model('acme/vision', { modelType: 'vision_model', format: 'safetensors', parameterCount: 300_000_000, modalities: ['image'], inputs: [{ name: 'img', dataType: 'IMAGE' }] }),
];

test('lists models with the filters of mm list as query parameters', async () => {
  await using h = await startHarness({}, seed);
  const all = await h.app.inject('/api/models');
  assert.equal(all.statusCode, 200);
  assert.deepEqual(all.json().models.map((m: { modelId: string }) => m.modelId), ['acme/embedder', 'acme/vision', 'meta/llama-tiny']);

  const ids = async (query: string) => (await h.app.inject(`/api/models?${query}`)).json().models.map((m: { modelId: string }) => m.modelId);
  assert.deepEqual(await ids('type=embedding_model'), ['acme/embedder']);
  assert.deepEqual(await ids('format=onnx&format=gguf'), ['acme/embedder', 'meta/llama-tiny']);
  assert.deepEqual(await ids('format=onnx,gguf'), ['acme/embedder', 'meta/llama-tiny']);
  assert.deepEqual(await ids('attention=gqa'), ['meta/llama-tiny']);
  assert.deepEqual(await ids('minParams=1B'), ['meta/llama-tiny']);
  assert.deepEqual(await ids('maxParams=500M&sort=parameterCount&order=desc'), ['acme/vision', 'acme/embedder']);
  assert.deepEqual(await ids('fits=8GB'), ['acme/embedder']);
  assert.deepEqual(await ids('output=EMBEDDINGS'), ['acme/embedder']);
  assert.deepEqual(await ids('input=image'), ['acme/vision']);
  assert.deepEqual(await ids('modality=image'), ['acme/vision']);
  assert.deepEqual(await ids('tag=chat'), ['meta/llama-tiny']);
  const paged = (await h.app.inject('/api/models?limit=1&offset=1')).json();
  assert.equal(paged.count, 1);
  assert.equal(paged.total, 3);
  assert.equal(paged.models[0].modelId, 'acme/vision');
});

test('a bad filter value is a 400 with the error shape', async () => {
  await using h = await startHarness({}, seed);
  for (const url of ['/api/models?minParams=lots', '/api/models?sort=colour', '/api/models?limit=-1', '/api/models?nonsense=1']) {
    const res = await h.app.inject(url);
    assert.equal(res.statusCode, 400, url);
    const body = res.json();
    assert.ok(['INVALID_ARGUMENT'].includes(body.error.code), `${url}: ${body.error.code}`);
    assert.equal(typeof body.error.message, 'string');
    assert.equal(typeof body.error.details, 'object');
  }
});

test('ids with a slash work raw and encoded, for the model and its actions', async () => {
  await using h = await startHarness({}, seed);
  for (const url of ['/api/models/meta/llama-tiny', '/api/models/meta%2Fllama-tiny', '/api/models/meta%2fllama-tiny']) {
    const res = await h.app.inject(url);
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.json().modelId, 'meta/llama-tiny');
  }
  for (const url of ['/api/models/meta/llama-tiny/versions', '/api/models/meta%2Fllama-tiny/versions']) {
    const res = await h.app.inject(url);
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.json().versions.length, 1);
  }
  const missing = await h.app.inject('/api/models/meta/absent');
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'MODEL_NOT_FOUND');
});

test('add, update, version, diff-able history, rollback and delete', async () => {
  await using h = await startHarness();
  const added = await h.app.inject({ method: 'POST', url: '/api/models', payload: model('org/m1', { description: 'first' }) });
  assert.equal(added.statusCode, 201);
  assert.equal(added.json().modelName, 'm1');
  const dup = await h.app.inject({ method: 'POST', url: '/api/models', payload: model('org/m1') });
  assert.equal(dup.statusCode, 409);
  assert.equal(dup.json().error.code, 'MODEL_EXISTS');
  const bad = await h.app.inject({ method: 'POST', url: '/api/models', payload: { modelId: 'org/bad', modelType: 'x', parameterCount: -5 } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'INVALID_METADATA');
  assert.ok(bad.json().error.details.issues.some((i: { field: string }) => i.field === 'parameterCount'));

  const updated = await h.app.inject({ method: 'PUT', url: '/api/models/org/m1', payload: { description: 'second', tags: ['new'] } });
  assert.equal(updated.statusCode, 200);
  assert.equal(updated.json().description, 'second');
  const meta = await h.app.inject({ method: 'PUT', url: '/api/models/org/m1/metadata', payload: { display_name: 'Model One' } });
  assert.equal(meta.json().displayName, 'Model One');
  const category = await h.app.inject({ method: 'PUT', url: '/api/models/org%2Fm1/category', payload: { primary: 'LANGUAGE', secondary: 'CODE' } });
  assert.deepEqual(category.json().category, { primary: 'LANGUAGE', secondary: 'CODE', manual: true });

  const versions = (await h.app.inject('/api/models/org/m1/versions')).json().versions;
  assert.deepEqual(versions.map((v: { version: number }) => v.version), [1, 2, 3, 4]);
  const v1 = await h.app.inject('/api/models/org/m1/versions/1');
  assert.equal(v1.json().description, 'first');
  const rolled = await h.app.inject({ method: 'POST', url: '/api/models/org/m1/rollback', payload: { version: 1 } });
  assert.equal(rolled.statusCode, 200);
  assert.equal(rolled.json().description, 'first');
  assert.equal(rolled.json().category, undefined);
  assert.equal((await h.app.inject('/api/models/org/m1/versions')).json().versions.length, 5);
  const noVersion = await h.app.inject({ method: 'POST', url: '/api/models/org/m1/rollback', payload: { version: 99 } });
  assert.equal(noVersion.statusCode, 404);
  assert.equal(noVersion.json().error.code, 'VERSION_NOT_FOUND');

  const bulk = await h.app.inject({
    method: 'POST', url: '/api/models/metadata/bulk-update',
    payload: { updates: [{ model_id: 'org/m1', metadata: { tags: ['bulk'] } }, { modelId: 'org/none', metadata: { tags: ['x'] } }] },
  });
  assert.deepEqual(bulk.json().updated, ['org/m1']);
  assert.equal(bulk.json().failed[0].error.code, 'MODEL_NOT_FOUND');

  const deleted = await h.app.inject({ method: 'DELETE', url: '/api/models/org/m1' });
  assert.deepEqual(deleted.json(), { modelId: 'org/m1', removed: true, hard: false, restoreVersion: 6 });
  assert.equal((await h.app.inject('/api/models/org/m1')).statusCode, 404);
});

test('metrics are recorded and read back; search and stats answer', async () => {
  await using h = await startHarness({}, seed);
  const q = await h.app.inject({ method: 'POST', url: '/api/models/acme/embedder/metrics', payload: { name: 'MTEB', value: 0.61, shots: 0 } });
  assert.equal(q.statusCode, 200);
  await h.app.inject({ method: 'POST', url: '/api/models/acme/embedder/metrics', payload: { performance: { textsPerSecond: 850 } } });
  const metrics = (await h.app.inject('/api/models/acme/embedder/metrics')).json();
  assert.equal(metrics.qualityMetrics[0].name, 'MTEB');
  assert.equal(metrics.performanceMetrics.textsPerSecond, 850);
  assert.equal(metrics.memoryEstimate.totalBytes, 1e8);

  const search = (await h.app.inject('/api/search?q=embeddings')).json();
  assert.equal(search.hits[0].model.modelId, 'acme/embedder');
  const stats = (await h.app.inject('/api/stats')).json();
  assert.equal(stats.totalModels, 3);
  assert.equal(stats.byFormat.onnx, 1);
});

test('unknown routes, malformed JSON and oversized bodies get the error shape', async () => {
  await using h = await startHarness({ bodyLimit: 2048 });
  const none = await h.app.inject('/api/nothing-here');
  assert.equal(none.statusCode, 404);
  assert.equal(none.json().error.code, 'NOT_FOUND');
  const malformed = await h.app.inject({ method: 'POST', url: '/api/models', headers: { 'content-type': 'application/json' }, payload: '{"modelId": ' });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().error.code, 'INVALID_ARGUMENT');
  const big = await h.app.inject({ method: 'POST', url: '/api/models', payload: model('org/big', { description: 'x'.repeat(4096) }) });
  assert.equal(big.statusCode, 413);
  assert.equal(big.json().error.code, 'PAYLOAD_TOO_LARGE');
  // the server still answers afterwards
  assert.equal((await h.app.inject('/health')).statusCode, 200);
});

test('discovery and runtime routes say 501 when the server runs without them', async () => {
  await using h = await startHarness({}, seed);
  for (const [method, url] of [['GET', '/api/models/discovery/status'], ['GET', '/api/ps'], ['POST', '/v1/embeddings']] as const) {
    const res = await h.app.inject({ method, url, payload: method === 'POST' ? { model: 'acme/embedder', input: 'hi' } : undefined });
    assert.equal(res.statusCode, 501, url);
    assert.equal(res.json().error.code, 'NOT_ENABLED');
  }
});

test('the OpenAPI document describes the routes and /docs serves the viewer', async () => {
  await using h = await startHarness();
  const doc = await h.app.inject('/docs/json');
  assert.equal(doc.statusCode, 200);
  const openapi = doc.json();
  assert.match(openapi.openapi, /^3\./);
  for (const path of ['/api/models', '/api/models/{id}', '/api/models/{id}/versions', '/api/models/discovery/refresh', '/v1/chat/completions', '/api/ps']) {
    assert.ok(openapi.paths[path], `missing ${path}`);
  }
  assert.ok(openapi.components.schemas.ModelMetadata, 'ModelMetadata schema published');
  const viewer = await h.app.inject('/docs/');
  assert.equal(viewer.statusCode, 200);
  assert.match(viewer.body, /swagger/i);
});

test('an update cannot rename a model, and the UI is served with a strict content policy', async () => {
  await using h = await startHarness({}, seed);
  const rename = await h.app.inject({ method: 'PUT', url: '/api/models/acme/vision', payload: { modelId: 'acme/other' } });
  assert.equal(rename.statusCode, 400);
  assert.equal(rename.json().error.code, 'INVALID_METADATA');
  const page = await h.app.inject('/');
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.match(page.body, /<main id="view"/);
  const script = await h.app.inject('/app.js');
  assert.equal(script.statusCode, 200);
  assert.match(String(script.headers['content-type']), /javascript/);
});
