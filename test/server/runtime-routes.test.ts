import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKeys, createApiKey } from '../../src/index.js';
import { model, startHarness } from './harness.js';
import { ScriptedRuntime } from './scripted-runtime.js';

const models = [
  model('acme/embedder', { modelType: 'embedding_model', format: 'onnx', outputs: [{ name: 'e', dataType: 'EMBEDDINGS' }] }),
  model('meta/llama-tiny'),
  model('org/secret', { accessLevel: 'admin_only' }),
];

/** Parses a server-sent event stream into its data payloads. */
function events(body: string): string[] {
  return body.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
}

test('/v1/embeddings answers in OpenAI shape; keep_alive and the server default reach the runtime', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime, keepAliveDefault: '10m' }, models);
  const res = await h.app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: 'acme/embedder', input: ['hello', 'hi'] } });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.object, 'list');
  assert.deepEqual(body.data.map((d: { index: number; embedding: number[] }) => [d.index, d.embedding]), [[0, [5, 0, 0.5]], [1, [2, 1, 0.5]]]);
  assert.equal(body.usage.total_tokens, 8);
  assert.equal(runtime.requests[0]!.keepAlive, '10m');
  await h.app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: 'acme/embedder', input: 'x', keep_alive: 0 } });
  assert.equal(runtime.requests[1]!.keepAlive, 0);
  const b64 = (await h.app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: 'acme/embedder', input: 'abc', encoding_format: 'base64' } })).json();
  assert.deepEqual([...new Float32Array(Uint8Array.from(Buffer.from(b64.data[0].embedding, 'base64')).buffer)], [3, 0, 0.5]);
});

test('/api/task runs the seed task and maps its failures to statuses', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime }, models);
  const ok = await h.app.inject({ method: 'POST', url: '/api/task', payload: { taskData: ['a'], taskType: 'embedding', modelName: 'acme/embedder', keep_alive: '5m', pooling: 'mean' } });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().success, true);
  assert.equal(runtime.requests[0]!.pooling, 'mean', 'extra parameters pass through');
  assert.equal(runtime.requests[0]!.keepAlive, '5m');

  runtime.failNext = { code: 'QUEUE_FULL', message: 'the queue of acme/embedder is full (64); retry later', details: { retryAfterSeconds: 2 } };
  const full = await h.app.inject({ method: 'POST', url: '/api/task', payload: { taskData: 'a', taskType: 'embedding', modelName: 'acme/embedder' } });
  assert.equal(full.statusCode, 503);
  assert.equal(full.headers['retry-after'], '2');
  assert.equal(full.json().error.code, 'QUEUE_FULL');

  runtime.failNext = { code: 'UNSUPPORTED_TASK', message: 'no such task' };
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/task', payload: { taskData: 'a', taskType: 'dance', modelName: 'acme/embedder' } })).statusCode, 400);
  runtime.failNext = { code: 'SOMETHING_NEW', message: 'odd' };
  const odd = await h.app.inject({ method: 'POST', url: '/api/task', payload: { taskData: 'a', taskType: 'embedding', modelName: 'acme/embedder' } });
  assert.equal(odd.statusCode, 500);
  assert.equal(odd.json().error.code, 'TASK_FAILED');
  const badBody = await h.app.inject({ method: 'POST', url: '/api/task', payload: { taskType: 'embedding', modelName: 'acme/embedder' } });
  assert.equal(badBody.statusCode, 400);
});

test('completions and chat answer whole, or stream server-sent events ending in [DONE]', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime }, models);
  const whole = (await h.app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'meta/llama-tiny', prompt: 'Say', max_tokens: 4 } })).json();
  assert.equal(whole.choices[0].text, 'Once upon a time');
  assert.equal(whole.choices[0].finish_reason, 'length');
  assert.equal(runtime.requests[0]!.maxTokens, 4);

  const chat = (await h.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'meta/llama-tiny', messages: [{ role: 'user', content: 'hi' }] } })).json();
  assert.deepEqual(chat.choices[0].message, { role: 'assistant', content: 'Once upon a time' });
  assert.equal(chat.object, 'chat.completion');

  const stream = await h.app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'meta/llama-tiny', stream: true, messages: [{ role: 'user', content: 'hi' }] } });
  assert.equal(stream.statusCode, 200);
  assert.match(String(stream.headers['content-type']), /text\/event-stream/);
  const data = events(stream.body);
  assert.equal(data.at(-1), '[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), 'Once upon a time');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');

  const completion = await h.app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'meta/llama-tiny', stream: true, prompt: 'x' } });
  assert.equal(events(completion.body).slice(0, -1).map((d) => JSON.parse(d).choices[0].text).join(''), 'Once upon a time');
});

test('a stream that fails before its first token is an HTTP error; after it, an error event', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime }, models);
  runtime.failNext = { code: 'QUEUE_FULL', message: 'full' };
  const before = await h.app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'meta/llama-tiny', stream: true, prompt: 'x' } });
  assert.equal(before.statusCode, 503);
  assert.equal(before.headers['retry-after'], '1');
  runtime.failAfter = 2;
  const after = await h.app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'meta/llama-tiny', stream: true, prompt: 'x' } });
  assert.equal(after.statusCode, 200);
  const data = events(after.body);
  assert.equal(JSON.parse(data.at(-2)!).error.code, 'TASK_FAILED');
  assert.equal(data.at(-1), '[DONE]');
  const unknown = await h.app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'meta/none', stream: true, prompt: 'x' } });
  assert.equal(unknown.statusCode, 404);
});

test('a client hanging up mid-stream leaves the server serving', async () => {
  const runtime = new ScriptedRuntime();
  runtime.tokenDelayMs = 30;
  await using h = await startHarness({ runtime }, models);
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const controller = new AbortController();
  const res = await fetch(`${address}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
    body: JSON.stringify({ model: 'meta/llama-tiny', stream: true, prompt: 'x' }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await new Promise((r) => setTimeout(r, 200));
  const after = await fetch(`${address}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'meta/llama-tiny', prompt: 'x' }) });
  assert.equal(after.status, 200);
});

test('/api/ps speaks Ollama, hides what the caller may not see; release and test-load', async () => {
  const runtime = new ScriptedRuntime();
  const base = { backend: 'llama-cpp', device: 'cpu', workers: 1, refs: 0, sizeBytes: 5e8, sizeVram: 0, loadedAt: '2026-11-22T10:00:00Z', lastUsedAt: '2026-11-22T10:01:00Z', expiresAt: '2026-11-22T10:06:00Z', queue: 2 };
  runtime.loaded = [{ ...base, name: 'meta/llama-tiny', model: 'meta/llama-tiny' }, { ...base, name: 'org/secret', model: 'org/secret' }];
  const reader = createApiKey({ user: 'r', role: 'reader' });
  const writer = createApiKey({ user: 'w', role: 'writer' });
  await using h = await startHarness({ runtime, auth: ApiKeys.fromRecords([reader.record, writer.record]) }, models);
  const ps = (await h.app.inject({ url: '/api/ps', headers: { authorization: `Bearer ${reader.key}` } })).json();
  assert.equal(ps.models.length, 1);
  const entry = ps.models[0];
  assert.equal(entry.name, 'meta/llama-tiny');
  assert.equal(entry.size, 5e8);
  assert.equal(entry.size_vram, 0);
  assert.equal(entry.expires_at, '2026-11-22T10:06:00Z');
  assert.equal(entry.details.format, 'gguf');
  assert.equal(entry.details.parameter_size, '1.00M');

  const denied = await h.app.inject({ method: 'POST', url: '/api/models/meta/llama-tiny/release', headers: { authorization: `Bearer ${reader.key}` } });
  assert.equal(denied.statusCode, 403);
  const released = await h.app.inject({ method: 'POST', url: '/api/models/meta/llama-tiny/release', headers: { authorization: `Bearer ${writer.key}` } });
  assert.deepEqual(released.json(), { modelId: 'meta/llama-tiny', released: true });
  assert.deepEqual(runtime.released, ['meta/llama-tiny']);

  const load = await h.app.inject({ method: 'POST', url: '/api/models/acme%2Fembedder/test-load', headers: { authorization: `Bearer ${writer.key}` } });
  assert.equal(load.statusCode, 200);
  assert.equal(load.json().ok, true);
  assert.deepEqual([runtime.requests[0]!.taskData, runtime.requests[0]!.taskType, runtime.requests[0]!.keepAlive], [null, 'embedding', 0]);
});

test('/metrics exposes requests, latency, queue depth, loaded models and cache hits', async () => {
  const runtime = new ScriptedRuntime();
  runtime.loaded = [{ name: 'meta/llama-tiny', model: 'meta/llama-tiny', backend: 'llama-cpp', device: 'cpu', workers: 1, refs: 1, sizeBytes: 100, sizeVram: 0, loadedAt: '', lastUsedAt: '', expiresAt: null, queue: 3 }];
  await using h = await startHarness({ runtime }, models);
  await h.app.inject('/api/models');
  await h.app.inject('/api/models/meta/llama-tiny');
  const res = await h.app.inject('/metrics');
  assert.match(String(res.headers['content-type']), /text\/plain/);
  const text = res.body;
  assert.match(text, /mm_http_requests_total\{method="GET",route="\/api\/models",status="200"\} 1/);
  assert.match(text, /mm_http_requests_total\{method="GET",route="\/api\/models\/:id",status="200"\} 1/);
  assert.match(text, /mm_http_request_duration_seconds_bucket\{method="GET",route="\/api\/models",le="\+Inf"\} 1/);
  assert.match(text, /^mm_queue_depth 3$/m);
  assert.match(text, /^mm_loaded_models 1$/m);
  assert.match(text, /^mm_embedding_cache_hits_total 7$/m);
  assert.match(text, /^mm_registry_models 3$/m);
});
