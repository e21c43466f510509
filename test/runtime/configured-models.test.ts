/**
 * Configured models (seed 001's `models.<name>` settings) in the library: a configured name runs
 * the model it names with its own settings wherever a model is named, seed 001's
 * getEmbeddingModel / getTextGenerationModel / getModelConfig, and code options over settings.
 * Real models (generated ONNX and GGUF) on the real backends.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import { Registry } from '../../src/registry/index.js';
import type { EmbeddingTaskOutput, GenerationTaskOutput, InferenceBackend } from '../../src/runtime/index.js';
import { ModelManager } from '../../src/runtime/index.js';
import { loadSettings, type LoadedSettings } from '../../src/settings/index.js';
import { writeTestModel } from '../../src/testmodels/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf } from './fixtures.js';

const dir = tempDir('mm-configured-');
let embedder: string;
let llama: string;
let settings: LoadedSettings;

before(async () => {
  const [onnx, gguf] = await Promise.all([
    writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir.path, 'models', 'embedder') }),
    writeTestModel({ format: 'gguf', task: 'text_generation', out: join(dir.path, 'models', 'writer') }),
  ]);
  embedder = onnx.path;
  llama = gguf.path;
  // Paths relative to the settings file, as an administrator writes them.
  const file = join(dir.path, 'settings.yaml');
  writeFileSync(file, `
sharing:
  max_shared_models: 2
max_queue: 7
models:
  embedding:
    type: embedding
    local_path: ./models/embedder
    batch_size: 1
    keep_alive: -1
    cache_embeddings: false
  writer:
    type: text_generation
    local_path: ./models/writer
    max_output_length: 3
    max_input_length: 8
`);
  settings = await loadSettings({ file, env: {} });
});
after(() => dir[Symbol.dispose]());

async function refusal(work: Promise<unknown>, code: string): Promise<string> {
  try {
    await work;
  } catch (error) {
    assert.ok(isModelManagerError(error), String(error));
    assert.equal(error.code, code, error.message);
    return error.message;
  }
  assert.fail(`expected ${code}`);
}

test('a configured name runs its model with its own batch size, keep-alive and cache; the task type comes from the settings', async () => {
  await using manager = await ModelManager.create({ settings, gpuCount: 0 });
  const texts = ['one', 'two', 'three'];
  const first = dataOf<EmbeddingTaskOutput>(await manager.task({ modelName: 'embedding', taskData: texts }));
  assert.equal(first.model, 'embedding');
  assert.equal(first.embeddings.length, 3);
  const status = manager.getModelStatus('embedding');
  assert.ok(status);
  assert.equal(status.name, 'embedding');
  assert.equal(status.path, embedder);
  // batch_size 1: one backend call per text (the default batches all three in one).
  assert.equal(status.backendCalls, 3);
  // keep_alive -1: kept until released.
  assert.equal(status.keepAliveMinutes, -1);
  assert.equal(status.expiresAt, null);
  // cache_embeddings false: the same texts are computed again.
  const again = dataOf<EmbeddingTaskOutput>(await manager.task({ modelName: 'embedding', taskType: 'embedding', taskData: texts }));
  assert.equal(again.cached, 0);
  assert.deepEqual(again.embeddings, first.embeddings);

  // The same files named by path are another load, with the manager's defaults: batched, cached.
  dataOf(await manager.task({ modelName: embedder, taskType: 'embedding', taskData: texts }));
  const direct = dataOf<EmbeddingTaskOutput>(await manager.task({ modelName: embedder, taskType: 'embedding', taskData: texts }));
  assert.equal(direct.cached, 3);
  assert.equal(manager.getModelStatus(embedder)?.backendCalls, 1);
  assert.deepEqual(manager.ps().map((m) => m.name).sort(), [embedder, 'embedding'].sort());

  assert.equal(await manager.releaseModel('embedding'), true);
  assert.equal(manager.getModelStatus('embedding'), undefined);
});

test('a configured text generation model caps its output and refuses a longer prompt; the wrong task is INVALID_MODEL_TYPE', async () => {
  await using manager = await ModelManager.create({ settings, gpuCount: 0 });
  const out = dataOf<GenerationTaskOutput>(await manager.task({ modelName: 'writer', taskData: 'Once' }));
  assert.equal(out.tokens, 3);
  assert.equal(out.finishReason, 'length');
  // The request's own limit wins over the configured one.
  const longer = dataOf<GenerationTaskOutput>(await manager.task({ modelName: 'writer', taskType: 'text_generation', taskData: 'Once', maxTokens: 5 }));
  assert.equal(longer.tokens, 5);

  // The byte vocabulary reads "Once upon a time" as 16 tokens after BOS: over max_input_length 8.
  const tooLong = await manager.task({ modelName: 'writer', taskType: 'text_generation', taskData: 'Once upon a time' });
  assert.equal(tooLong.success, false);
  assert.ok(!tooLong.success);
  assert.equal(tooLong.error.code, 'INVALID_TASK_DATA');
  assert.match(tooLong.error.message, /the prompt is 17 tokens; "writer" takes at most 8 \(models\.writer\.maxInputLength\)/);

  const wrong = await manager.task({ modelName: 'writer', taskType: 'embedding', taskData: 'x' });
  assert.ok(!wrong.success);
  assert.equal(wrong.error.code, 'INVALID_MODEL_TYPE');
  assert.match(wrong.error.message, /"writer" is configured as a text_generation model, not for embedding/);
});

test('getEmbeddingModel, getTextGenerationModel, getModelConfig and generateEmbeddings as seed 001 names them', async () => {
  await using manager = await ModelManager.create({ settings, gpuCount: 0 });
  const handle = await manager.getEmbeddingModel();
  assert.equal(handle.name, 'embedding');
  assert.equal((await handle.embed(['hello'])).length, 1);
  const again = await manager.getEmbeddingModel('embedding');
  assert.equal(manager.getModelStatus('embedding')?.refs, 2);
  handle.release();
  again.release();

  const writer = await manager.getTextGenerationModel('writer');
  assert.equal(writer.taskType, 'text_generation');
  writer.release();

  assert.match(await refusal(manager.getTextGenerationModel('embedding'), 'INVALID_MODEL_TYPE'), /configured as a embedding model, not for text_generation/);
  assert.match(await refusal(manager.getEmbeddingModel('nope'), 'MODEL_NOT_CONFIGURED'), /no model is configured as "nope": add models\.nope to the settings \(configured: embedding, writer\)/);
  assert.throws(() => manager.getModelConfig('nope'), (e) => isModelManagerError(e, 'MODEL_NOT_CONFIGURED'));

  const config = manager.getModelConfig('writer');
  assert.deepEqual(config, {
    id: 'writer', type: 'text_generation', taskType: 'text_generation', localPath: llama, source: llama, shared: true, maxOutputLength: 3, maxInputLength: 8,
  });

  const { embeddings, dimensions } = await manager.generateEmbeddings(['hello', 'world']);
  assert.equal(embeddings.length, 2);
  assert.equal(dimensions, embeddings[0]!.length);
});

test('options passed in code win over the settings, which fill in what code leaves out', async () => {
  await using manager = await ModelManager.create({
    settings,
    gpuCount: 0,
    maxLoadedModels: 1,
    models: { writer: { type: 'embedding', localPath: embedder } },
  });
  const status = manager.getStatus();
  assert.equal(status.maxLoadedModels, 1);
  assert.equal(status.maxQueue, 7);
  // A model configured in code replaces the file's model of that name.
  assert.equal(manager.getModelConfig('writer').taskType, 'embedding');
  assert.equal(manager.getModelConfig('embedding').batchSize, 1);

  // The seed's global names, mapped onto the manager's options.
  const globals = join(dir.path, 'globals.yaml');
  writeFileSync(globals, 'sharing:\n  unload_after_seconds: 30\nembedding_cache:\n  max_cache_size: 50\n  ttl_seconds: 60\n  persist_to_disk: cache/vectors.json\n');
  await using mapped = await ModelManager.create({ settings: await loadSettings({ file: globals, env: {} }), gpuCount: 0 });
  assert.equal(mapped.defaultKeepAliveMs, 30_000);
  const cache = mapped.getStatus().cache;
  assert.deepEqual([cache.maxEntries, cache.ttlMs, cache.persistPath], [50, 60_000, join(dir.path, 'cache', 'vectors.json')]);
  const off = await loadSettings({ file: globals, env: { MM_EMBEDDING_CACHE_ENABLED: 'false' } });
  await using uncached = await ModelManager.create({ settings: off, gpuCount: 0 });
  assert.equal(uncached.getStatus().cache.maxEntries, 0);

  await using none = await ModelManager.create({ settings: false, gpuCount: 0 });
  assert.equal(none.configuredModel('embedding'), undefined);
  assert.equal(none.getStatus().maxQueue, 512);
});

test('a configured model that is not shared is freed once its caller is done; numWorkers sets its instances', async () => {
  await using manager = await ModelManager.create({
    settings: false,
    gpuCount: 0,
    defaultKeepAlive: -1,
    models: { once: { type: 'embedding', localPath: embedder, shared: false }, pair: { type: 'embedding', localPath: embedder, numWorkers: 2 } },
  });
  dataOf(await manager.task({ modelName: 'once', taskData: ['x'] }));
  assert.deepEqual(manager.ps().map((m) => m.name), []);
  // Another text: one the cache holds would be answered without loading the model.
  dataOf(await manager.task({ modelName: 'pair', taskData: ['y'] }));
  assert.deepEqual(manager.ps().map((m) => [m.name, m.workers]), [['pair', 2]]);
});

test('a configured dimension shortens a Matryoshka model\'s vectors; a dimension the model cannot give is a settings error', async () => {
  const matryoshka = (await writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir.path, 'models', 'matryoshka') })).path;
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry.db') });
  await registry.addModel({ modelId: 'test/matryoshka', modelType: 'embedding_model', format: 'onnx', localPath: matryoshka, tags: ['matryoshka'] });
  await using manager = await ModelManager.create({
    registry,
    settings: false,
    gpuCount: 0,
    models: {
      short: { type: 'embedding', name: 'test/matryoshka', dimension: 16 },
      plain: { type: 'embedding', localPath: embedder, dimension: 16 },
    },
  });
  const short = dataOf<EmbeddingTaskOutput>(await manager.task({ modelName: 'short', taskType: 'embedding', taskData: ['hello'] }));
  assert.equal(short.dimensions, 16);
  const norm = Math.hypot(...short.embeddings[0]!);
  assert.ok(Math.abs(norm - 1) < 1e-5);
  // The request's own dimensions win.
  const full = dataOf<EmbeddingTaskOutput>(await manager.task({ modelName: 'short', taskType: 'embedding', taskData: ['hello'], dimensions: 32 }));
  assert.equal(full.dimensions, 32);

  const plain = await manager.task({ modelName: 'plain', taskType: 'embedding', taskData: ['hello'] });
  assert.ok(!plain.success);
  assert.equal(plain.error.code, 'INVALID_CONFIG');
  assert.match(plain.error.message, /^models\.plain\.dimension is 16, but "plain" was not trained for shorter embeddings/);
});

test('configured models in code are checked like the settings file: a bad one stops create()', async () => {
  await refusal(ModelManager.create({ settings: false, models: { broken: { type: 'embedding' } } }), 'INVALID_CONFIG');
  const message = await refusal(ModelManager.create({ settings: false, models: { broken: { type: 'embedding', name: 'x', device: 'tpu' } } }), 'INVALID_CONFIG');
  assert.match(message, /models\.broken\.device: device "tpu" is not valid/);
  await refusal(ModelManager.create({ settings: false, models: { 'org/x': { type: 'embedding', name: 'x' } } }), 'INVALID_CONFIG');
});

test('devicePreference applies where neither the request nor the configured model names a device', async () => {
  const echo = join(dir.path, 'echo');
  mkdirSync(echo, { recursive: true });
  writeFileSync(join(echo, 'model.echo'), 'echo');
  /** Records the device each load was asked for: the device choice is what this test is about. */
  const asked: string[] = [];
  const backend: InferenceBackend = {
    name: 'echo', tasks: ['echo'],
    supports: (location) => location.path === echo,
    load: async ({ device }) => {
      asked.push(device);
      return { backend: 'echo', device, run: async (_task, data) => data, dispose: async () => undefined };
    },
  };
  const models = { pinned: { type: 'echo', localPath: echo, device: 'cuda:0' }, plain: { type: 'echo', localPath: echo } };
  for (const [devicePreference, expected] of [['auto', ['gpu', 'cuda:0', 'gpu']], ['cpu', ['cpu', 'cuda:0', 'cpu']]] as const) {
    asked.length = 0;
    await using manager = await ModelManager.create({ settings: false, gpuCount: 1, devicePreference, models });
    manager.registerBackend(backend);
    for (const modelName of ['plain', 'pinned', echo]) dataOf(await manager.task({ modelName, taskType: 'echo', taskData: 1 }));
    assert.deepEqual(asked, expected, devicePreference);
  }
});
