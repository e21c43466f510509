/**
 * task() on the real backends (transformers for ONNX, llama-cpp for GGUF) and generated models,
 * and the failures a user can cause: each a Result with a stable code, the manager fine afterwards.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelManager, type EmbeddingTaskOutput, type GenerationTaskOutput, type PreloadOutput } from '../../src/runtime/index.js';
import { writeTestModel } from '../../src/testmodels/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, writeTinyModels, type TinyModels } from './fixtures.js';

const dir = tempDir('mm-runtime-task-');
let models: TinyModels;
let onnxGpt2: string;
let manager: ModelManager;

before(async () => {
  models = await writeTinyModels(dir.path);
  onnxGpt2 = (await writeTestModel({ format: 'onnx', task: 'text_generation', out: join(dir.path, 'onnx-gpt2') })).path;
  // No pulls: an unknown hub id must answer MODEL_NOT_FOUND here, not go to the hub.
  manager = await ModelManager.create({ gpuCount: 0, onWarning: () => {}, autoPull: false });
});
after(async () => {
  await manager.shutdown();
  dir[Symbol.dispose]();
});

for (const [label, model, backend] of [
  ['ONNX (transformers)', () => models.onnxEmbedding, 'transformers'],
  ['GGUF (llama-cpp)', () => models.ggufEmbedding, 'llama-cpp'],
] as const) {
  test(`embeddings from a generated ${label} model`, async () => {
    const data = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['hello world', 'another text'], taskType: 'embedding', modelName: model() }));
    assert.equal(data.embeddings.length, 2);
    assert.ok(data.dimensions > 0);
    for (const v of data.embeddings) {
      assert.equal(v.length, data.dimensions);
      assert.ok(v.every(Number.isFinite));
      // normalised by default
      assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-3);
    }
    assert.notDeepEqual(data.embeddings[0], data.embeddings[1]);
    assert.equal(data.cached, 0);
    assert.equal(manager.getModelStatus(model())?.backend, backend);
    // a single string is one text
    const one = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: 'hello world', taskType: 'embedding', modelName: model() }));
    assert.deepEqual(one.embeddings, [data.embeddings[0]]);
    assert.equal(one.cached, 1);
  });
}

test('normalize: false passes through to the backend', async () => {
  const data = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['raw vector please'], taskType: 'embedding', modelName: models.onnxEmbedding, normalize: false }));
  assert.ok(Math.abs(Math.hypot(...data.embeddings[0]!) - 1) > 1e-3);
});

test('text generation on a generated GGUF llama: maxTokens bounds it, a seed repeats it, tokens stream', async () => {
  const request = { taskData: 'Once upon a time', taskType: 'text_generation', modelName: models.ggufLlama, maxTokens: 8, temperature: 0.8, seed: 7 };
  const streamed: string[] = [];
  const first = dataOf<GenerationTaskOutput>(await manager.task({ ...request, onToken: (t) => streamed.push(t) }));
  assert.ok(first.tokens > 0 && first.tokens <= 8);
  assert.equal(typeof first.generatedText, 'string');
  assert.equal(streamed.join(''), first.generatedText);
  assert.equal(first.finishReason, first.tokens === 8 ? 'length' : 'stop');
  const again = dataOf<GenerationTaskOutput>(await manager.task(request));
  assert.equal(again.generatedText, first.generatedText);
  // maxLength (the seed's name) means the same
  const short = dataOf<GenerationTaskOutput>(await manager.task({ ...request, maxTokens: undefined, maxLength: 2 }));
  assert.ok(short.tokens <= 2);
});

test('text generation on a generated ONNX decoder runs through the transformers backend, streamed', async () => {
  const streamed: string[] = [];
  const data = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'Hello', taskType: 'text_generation', modelName: onnxGpt2, maxTokens: 4, onToken: (t) => streamed.push(t) }));
  assert.ok(data.tokens > 0 && data.tokens <= 4);
  assert.equal(streamed.join(''), data.generatedText);
  assert.equal(manager.getModelStatus(onnxGpt2)?.backend, 'transformers');
});

test('taskData null preloads and reports workers, device and keep-alive', async () => {
  await using fresh = await ModelManager.create({ gpuCount: 0 });
  const data = dataOf<PreloadOutput>(await fresh.task({ taskData: null, taskType: 'embedding', modelName: models.ggufEmbedding, numWorkers: 2, device: 'cpu', keepAlive: 30 }));
  assert.deepEqual(data, { preloaded: true, modelName: models.ggufEmbedding, workers: 2, device: 'cpu', keepAliveMinutes: 30 });
  const [info] = fresh.ps();
  assert.equal(info?.workers, 2);
  assert.equal(info?.refs, 0);
  assert.ok(info?.expiresAt);
});

test('bad input: each failure is a Result with a stable code and a hint, and the manager stays healthy', async () => {
  // Half of each generated model: a download that stopped midway.
  const truncatedGguf = join(dir.path, 'truncated-gguf');
  mkdirSync(truncatedGguf);
  const gguf = readdirSync(models.ggufEmbedding).find((f) => f.endsWith('.gguf'))!;
  const ggufBytes = readFileSync(join(models.ggufEmbedding, gguf));
  writeFileSync(join(truncatedGguf, 'model.gguf'), ggufBytes.subarray(0, ggufBytes.length >> 1));
  const truncatedOnnx = join(dir.path, 'truncated-onnx');
  cpSync(models.onnxEmbedding, truncatedOnnx, { recursive: true });
  const onnxBytes = readFileSync(join(truncatedOnnx, 'onnx', 'model.onnx'));
  writeFileSync(join(truncatedOnnx, 'onnx', 'model.onnx'), onnxBytes.subarray(0, onnxBytes.length >> 1));
  const safetensorsOnly = join(dir.path, 'safetensors-only');
  mkdirSync(safetensorsOnly);
  writeFileSync(join(safetensorsOnly, 'model.safetensors'), Buffer.alloc(16));
  const loadsBefore = manager.getStatus().counters.loads;

  const cases = [
    [{ taskData: ['x'], taskType: 'embedding', modelName: 'nobody/no-such-model' }, 'MODEL_NOT_FOUND', /mm list|model folder/],
    [{ taskData: ['x'], taskType: 'image_segmentation', modelName: models.onnxEmbedding }, 'UNSUPPORTED_TASK', /register a backend/],
    [{ taskData: 42, taskType: 'embedding', modelName: models.onnxEmbedding }, 'INVALID_TASK_DATA', /list of strings/],
    [{ taskData: ['ok', 3], taskType: 'embedding', modelName: models.onnxEmbedding }, 'INVALID_TASK_DATA', /taskData\[1\]/],
    [{ taskData: ['a', 'b'], taskType: 'text_generation', modelName: models.ggufLlama }, 'INVALID_TASK_DATA', /one prompt/],
    [{ taskData: 'hi', taskType: 'text_generation', modelName: models.ggufLlama, temperature: 'hot' }, 'INVALID_TASK_DATA', /temperature/],
    [{ taskData: ['x'], taskType: 'embedding', modelName: truncatedGguf }, 'MODEL_LOAD_FAILED', /re-download or regenerate/],
    [{ taskData: ['x'], taskType: 'embedding', modelName: truncatedOnnx }, 'MODEL_LOAD_FAILED', /complete/],
    [{ taskData: ['x'], taskType: 'embedding', modelName: safetensorsOnly }, 'BACKEND_MISSING', /GGUF or ONNX|register a backend/],
    [{ taskData: null, taskType: 'embedding', modelName: models.onnxEmbedding, keepAlive: 'forever' }, 'INVALID_ARGUMENT', /duration/],
    [{ taskData: null, taskType: 'embedding', modelName: models.onnxEmbedding, numWorkers: 0 }, 'INVALID_ARGUMENT', /numWorkers/],
  ] as const;
  for (const [request, code, hint] of cases) {
    const result = await manager.task(request);
    assert.equal(result.success, false, `${code} expected`);
    if (result.success) continue;
    assert.equal(result.error.code, code, result.error.message);
    assert.match(result.error.message, hint);
  }
  // Bad data never loaded anything; only the two broken models were tried, and neither stays.
  assert.equal(manager.getStatus().counters.loads - loadsBefore, 2);
  assert.equal(manager.getModelStatus(truncatedGguf), undefined);
  assert.equal(manager.getModelStatus(truncatedOnnx), undefined);
  const healthy = await manager.task({ taskData: ['still fine'], taskType: 'embedding', modelName: models.onnxEmbedding });
  assert.equal(healthy.success, true);
});

test('task() never throws, even on a request that is not an object', async () => {
  const result = await manager.task(null as unknown as Parameters<ModelManager['task']>[0]);
  assert.equal(result.success, false);
});
