/**
 * A generated T5 encoder-decoder through the real server: discovery registers it as an
 * encoder-decoder that generates text, and `/api/task` and `/v1/completions` (whole and streamed)
 * run it on the transformers backend's seq2seq path.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Discovery, ModelManager, Registry, createServer, loadConfig, writeTestModel, type ModelMetadata } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('mm-server-seq2seq-');
const modelsDir = join(tmp.path, 'models');
let registry: Registry;
let discovery: Discovery;
let runtime: ModelManager;
let app: FastifyInstance;
let t5: ModelMetadata;

before(async () => {
  await writeTestModel({ format: 'onnx', task: 'text2text', out: join(modelsDir, 'tiny-t5') });
  registry = await Registry.open({ instance: await SqliteStore.open(join(tmp.path, 'registry.db')) });
  discovery = await Discovery.create({ registry, roots: [modelsDir], stateDir: join(tmp.path, 'discovery'), config: loadConfig({ MM_HOME: tmp.path }) });
  runtime = await ModelManager.create({ registry, modelRoots: [modelsDir], defaultKeepAlive: -1 });
  app = await createServer({ registry, discovery, runtime, modelRoots: [modelsDir] });
  const scan = await app.inject({ method: 'POST', url: '/api/models/discovery/refresh', payload: {} });
  assert.equal(scan.statusCode, 200, scan.body);
  const models = (await app.inject('/api/models/discovered')).json().models as ModelMetadata[];
  assert.equal(models.length, 1, 'the encoder and the decoder graph are one model');
  t5 = models[0]!;
});

after(async () => {
  await app?.close();
  await runtime?.shutdown();
  await discovery?.close();
  await registry?.close();
  tmp[Symbol.dispose]();
});

test('discovery registers the generated T5 as an ONNX encoder-decoder that generates text', () => {
  assert.equal(t5.modelType, 'encoder_decoder');
  assert.equal(t5.architecture, 'T5ForConditionalGeneration');
  assert.equal(t5.format, 'onnx');
  assert.deepEqual(t5.capabilities, ['text_generation']);
  assert.deepEqual(t5.supportedBackends, ['transformers']);
});

test('/api/task generates from the T5 on the transformers backend', async () => {
  const res = await app.inject({ method: 'POST', url: '/api/task', payload: { modelName: t5.modelId, taskType: 'text_generation', taskData: 'summarize: the tiny model', maxTokens: 5, temperature: 0 } });
  assert.equal(res.statusCode, 200, res.body);
  const { data } = res.json() as { data: { generatedText: string; tokens: number; finishReason: string } };
  assert.ok(data.generatedText.trim().length > 0);
  assert.ok(data.tokens > 0 && data.tokens <= 5, `${data.tokens} tokens`);
  const ps = (await app.inject('/api/ps')).json().models as { model: string; backend: string }[];
  assert.equal(ps.find((m) => m.model === t5.modelId)?.backend, 'transformers');
});

test('/v1/completions answers from the T5 whole and streamed, the stream adding up to the whole', async () => {
  const payload = { model: t5.modelId, prompt: 'translate: hello world', max_tokens: 6, temperature: 0 };
  const whole = await app.inject({ method: 'POST', url: '/v1/completions', payload });
  assert.equal(whole.statusCode, 200, whole.body);
  const body = whole.json() as { choices: { text: string; finish_reason: string }[]; usage: { completion_tokens: number } };
  assert.ok(body.choices[0]!.text.trim().length > 0);
  assert.ok(body.usage.completion_tokens > 0 && body.usage.completion_tokens <= 6);

  const stream = await app.inject({ method: 'POST', url: '/v1/completions', payload: { ...payload, stream: true } });
  assert.equal(stream.statusCode, 200, stream.body);
  const events = stream.body.split('\n\n').filter(Boolean);
  assert.equal(events.at(-1), 'data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as { choices: { text: string }[] });
  assert.ok(chunks.length > 2, `${chunks.length} chunks`);
  assert.equal(chunks.map((c) => c.choices[0]!.text).join(''), body.choices[0]!.text);
});
