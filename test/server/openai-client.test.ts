/**
 * The OpenAI-compatible routes as the official `openai` client sees them, against a server
 * listening on 127.0.0.1 with the real ModelManager on generated models: usage (prompt and
 * completion tokens), max_completion_tokens, the usage chunk of a stream, shorter embeddings, and
 * a client that hangs up stopping its generation (streamed or not, on /v1 and /api/task).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { ModelManager, Registry, createServer, writeTestModel } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('mm-openai-client-');
let registry: Registry;
let runtime: ModelManager;
let app: FastifyInstance;
let base: string;
let client: OpenAI;
const GEN = 'test/tiny-llama';
const EMBED = 'test/tiny-embedder';
const MRL = 'test/tiny-matryoshka';

before(async () => {
  const [gen, embed] = await Promise.all([
    writeTestModel({ format: 'gguf', task: 'text_generation', out: join(tmp.path, 'gen') }),
    writeTestModel({ format: 'onnx', task: 'embedding', out: join(tmp.path, 'embed') }),
  ]);
  registry = await Registry.open({ instance: await SqliteStore.open(join(tmp.path, 'registry.db')) });
  await registry.addModel({ modelId: GEN, modelType: 'decoder_only', format: 'gguf', localPath: gen.path });
  await registry.addModel({ modelId: EMBED, modelType: 'embedding_model', format: 'onnx', localPath: embed.path });
  await registry.addModel({ modelId: MRL, modelType: 'embedding_model', format: 'onnx', localPath: embed.path, tags: ['matryoshka'] });
  runtime = await ModelManager.create({ registry, gpuCount: 0, defaultKeepAlive: -1, onWarning: () => {} });
  app = await createServer({ registry, runtime });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-checked', maxRetries: 0 });
});

after(async () => {
  await app?.close();
  await runtime?.shutdown();
  await registry?.close();
  tmp[Symbol.dispose]();
});

interface PsEntry { model: string; running: number; queue: number; tasks: { task_type: string; state: string; max_tokens?: number }[] }

async function psEntry(model: string): Promise<PsEntry | undefined> {
  const { models } = (await (await fetch(`${base}/api/ps`)).json()) as { models: PsEntry[] };
  return models.find((m) => m.model === model);
}

/** Polls the server until `condition` holds; fails after 10 s (a hang guard, not a timing assertion). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('chat and completions report usage from the tokenizer and honour max_completion_tokens', async () => {
  const completion = await client.completions.create({ model: GEN, prompt: 'hello', max_tokens: 6 });
  // The byte vocabulary of the generated model: BOS, then one token per byte.
  assert.deepEqual(completion.usage, { prompt_tokens: 1 + 5, completion_tokens: 6, total_tokens: 12 });
  assert.equal(completion.choices[0]!.finish_reason, 'length');

  const chat = await client.chat.completions.create({ model: GEN, messages: [{ role: 'user', content: 'hi there' }], max_completion_tokens: 5 });
  assert.equal(chat.usage!.completion_tokens, 5);
  assert.ok(chat.usage!.prompt_tokens > 1 + 'hi there'.length, `the transcript is counted: ${chat.usage!.prompt_tokens}`);
  assert.equal(chat.usage!.total_tokens, chat.usage!.prompt_tokens + 5);
  assert.equal(chat.choices[0]!.finish_reason, 'length');
  assert.equal(chat.choices[0]!.message.content!.length, 5);

  await assert.rejects(client.completions.create({ model: GEN, prompt: 'x', max_tokens: 40_000 }), (e: unknown) => e instanceof OpenAI.BadRequestError);
});

test('a stream with stream_options.include_usage ends with a usage chunk; without it, none', async () => {
  const stream = await client.chat.completions.create({
    model: GEN, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage!.completion_tokens, 4);
  assert.ok(last.usage!.prompt_tokens > 0);
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === null && c.choices.length === 1));
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('').length, 4);

  const plain = await client.completions.create({ model: GEN, prompt: 'ab', max_tokens: 3, stream: true });
  const plainChunks = [];
  for await (const chunk of plain) plainChunks.push(chunk);
  assert.ok(plainChunks.every((c) => c.usage === undefined && c.choices.length === 1));
});

test('embeddings: float and base64, dimensions for a Matryoshka model only', async () => {
  const floats = await client.embeddings.create({ model: EMBED, input: ['hello world', 'the model'], encoding_format: 'float' });
  const full = floats.data[0]!.embedding;
  assert.ok(full.length > 8);
  // The generated WordPiece vocabulary holds these four words whole: [CLS] word word [SEP] each.
  assert.deepEqual(floats.usage, { prompt_tokens: 8, total_tokens: 8 });
  // The client asks for base64 itself when no format is given, and decodes it.
  const decoded = await client.embeddings.create({ model: EMBED, input: 'hello world' });
  decoded.data[0]!.embedding.forEach((v, i) => assert.ok(Math.abs(v - full[i]!) < 1e-6));

  const short = await client.embeddings.create({ model: MRL, input: ['hello world'], dimensions: 8 });
  const vector = short.data[0]!.embedding;
  assert.equal(vector.length, 8);
  const norm = Math.hypot(...full.slice(0, 8));
  vector.forEach((v, i) => assert.ok(Math.abs(v - full[i]! / norm) < 1e-5));
  await assert.rejects(client.embeddings.create({ model: EMBED, input: 'x', dimensions: 8 }), (e: unknown) => e instanceof OpenAI.BadRequestError && /matryoshka/i.test(e.message));
});

test('models are listed; an unknown one is a 404', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), [EMBED, GEN, MRL].sort());
  await assert.rejects(client.models.retrieve('nobody/none'), (e: unknown) => e instanceof OpenAI.NotFoundError);
});

test('a client that hangs up mid-stream stops its generation; the model serves the next one', async () => {
  const stream = await client.completions.create({ model: GEN, prompt: 'x', max_tokens: 32768, stream: true });
  let running: PsEntry | undefined;
  for await (const chunk of stream) {
    assert.equal(chunk.choices.length, 1);
    running = await psEntry(GEN);
    break; // leaving the loop aborts the request
  }
  assert.deepEqual(running!.tasks.map((t) => [t.task_type, t.state, t.max_tokens]), [['text_generation', 'running', 32768]]);
  await until(async () => (await psEntry(GEN))?.running === 0, 'the generation to stop');
  assert.deepEqual((await psEntry(GEN))!.tasks, []);
  const next = await client.completions.create({ model: GEN, prompt: 'y', max_tokens: 2 });
  assert.equal(next.usage!.completion_tokens, 2);
});

test('a client that hangs up on a whole answer (/api/task, /v1) stops its generation too', async () => {
  for (const [path, body] of [
    ['/api/task', { taskData: 'x', taskType: 'text_generation', modelName: GEN, maxTokens: 32768 }],
    ['/v1/chat/completions', { model: GEN, messages: [{ role: 'user', content: 'x' }], max_tokens: 32768 }],
  ] as const) {
    const controller = new AbortController();
    const answer = fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal });
    await until(async () => (await psEntry(GEN))?.running === 1, `${path} to run`);
    controller.abort();
    await assert.rejects(answer);
    await until(async () => (await psEntry(GEN))?.running === 0, `${path} to stop`);
  }
});

test('/api/task with taskData null preloads instead of generating from an empty prompt', async () => {
  const res = await fetch(`${base}/api/task`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ taskData: null, taskType: 'text_generation', modelName: GEN }),
  });
  assert.equal(res.status, 200);
  const { data } = (await res.json()) as { data: Record<string, unknown> };
  assert.equal(data.preloaded, true);
  assert.equal(data.generatedText, undefined);
});
