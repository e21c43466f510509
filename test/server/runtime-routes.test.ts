/**
 * What only a scripted runtime can show: failures at chosen moments (each error code's status,
 * a stream failing before and after its first token) and exact chunk shapes. Everything else
 * runs against the real ModelManager in runtime-real.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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

test('/api/task runs the seed task and maps its failures to statuses', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime }, models);
  const ok = await h.app.inject({ method: 'POST', url: '/api/task', payload: { taskData: ['a'], taskType: 'embedding', modelName: 'acme/embedder', keep_alive: '5m', pooling: 'mean' } });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json().success, true);
  const embedding = runtime.inputs[0]!;
  assert.equal(embedding.kind, 'embedding');
  assert.equal(embedding.kind === 'embedding' && embedding.params.pooling, 'mean', 'parameters reach the runtime');
  assert.equal(embedding.load.keepAliveMs, 5 * 60_000);

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

test('/api/task checks the request as task() does, before the runtime sees it; null taskData preloads', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime }, models);
  const post = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/api/task', payload });
  const generation = { taskData: 'x', taskType: 'text_generation', modelName: 'meta/llama-tiny' };
  for (const [payload, code, hint] of [
    [{ ...generation, maxTokens: 1e9 }, 'INVALID_TASK_DATA', /32768/],
    [{ ...generation, max_length: 40_000 }, 'INVALID_TASK_DATA', /32768/],
    [{ ...generation, maxLenght: 8 }, 'INVALID_ARGUMENT', /"maxLenght"/],
    [{ ...generation, signal: {} }, 'INVALID_ARGUMENT', /signal/],
    [{ ...generation, maxTokens: '8' }, 'INVALID_TASK_DATA', /maxTokens/],
  ] as const) {
    const res = await post(payload);
    assert.equal(res.statusCode, 400, JSON.stringify(payload));
    assert.equal(res.json().error.code, code);
    assert.match(res.json().error.message, hint);
  }
  assert.equal(runtime.inputs.length, 0, 'nothing reached the runtime');

  const seed = await post({ task_data: 'x', task_type: 'text_generation', model_name: 'meta/llama-tiny', max_length: 8, keep_alive: 0 });
  assert.equal(seed.statusCode, 200, seed.body);
  const seeded = runtime.inputs[0]!;
  assert.equal(seeded.kind, 'text_generation');
  if (seeded.kind !== 'text_generation') return;
  const { prompt, taskType, modelName, params, load } = seeded;
  assert.deepEqual({ prompt, taskType, modelName, maxTokens: params.maxTokens, keepAliveMs: load.keepAliveMs }, { prompt: 'x', taskType: 'text_generation', modelName: 'meta/llama-tiny', maxTokens: 8, keepAliveMs: 0 });

  const preload = await post({ ...generation, taskData: null });
  assert.equal(preload.statusCode, 200, preload.body);
  const preloaded = runtime.inputs[1]!;
  assert.equal(preloaded.kind === 'text_generation' && preloaded.prompt, null, 'null stays null (no coercion to "")');
  assert.equal(preload.json().data.preloaded, true);
});

test('completions and chat answer whole, or stream server-sent events ending in [DONE]', async () => {
  const runtime = new ScriptedRuntime();
  await using h = await startHarness({ runtime }, models);
  const whole = (await h.app.inject({ method: 'POST', url: '/v1/completions', payload: { model: 'meta/llama-tiny', prompt: 'Say', max_tokens: 4 } })).json();
  assert.equal(whole.choices[0].text, 'Once upon a time');
  assert.equal(whole.choices[0].finish_reason, 'length');
  const asked = runtime.inputs[0]!;
  assert.equal(asked.kind === 'text_generation' && asked.params.maxTokens, 4);

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
