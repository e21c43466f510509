/**
 * What task() accepts and how a caller steers a running task, on the real backends and generated
 * models: the seed's spellings, unknown parameters refused, the token cap, cancelling through an
 * AbortSignal (running and queued), the requests ps lists, token counts, shorter embeddings.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from '../../src/registry/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { ModelManager, type EmbeddingTaskOutput, type GenerationTaskOutput, type PreloadOutput } from '../../src/runtime/index.js';
import { writeTestModel } from '../../src/testmodels/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, waitFor } from './fixtures.js';

const dir = tempDir('mm-runtime-request-');
let ggufLlama: string;
let onnxGpt2: string;
let onnxEmbedding: string;
let ggufEmbedding: string;
let registry: Registry;
let manager: ModelManager;

before(async () => {
  [ggufLlama, onnxGpt2, onnxEmbedding, ggufEmbedding] = await Promise.all([
    writeTestModel({ format: 'gguf', task: 'text_generation', out: join(dir.path, 'gguf-llama') }).then((m) => m.path),
    writeTestModel({ format: 'onnx', task: 'text_generation', out: join(dir.path, 'onnx-gpt2') }).then((m) => m.path),
    writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir.path, 'onnx-embedding') }).then((m) => m.path),
    writeTestModel({ format: 'gguf', task: 'embedding', out: join(dir.path, 'gguf-embedding') }).then((m) => m.path),
  ]);
  registry = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'registry.db')) });
  manager = await ModelManager.create({ registry, gpuCount: 0, defaultKeepAlive: -1, onWarning: () => {} });
});
after(async () => {
  await manager.shutdown();
  await registry.close();
  dir[Symbol.dispose]();
});

function failure(result: { success: boolean; error?: { code: string; message: string } }): { code: string; message: string } {
  assert.equal(result.success, false, 'expected a failure');
  return result.error!;
}

test("the seed's spellings work: task_data, task_type, model_name, num_workers, keep_alive, max_length", async () => {
  const seedRequest = { task_data: 'ab', task_type: 'text_generation', model_name: ggufLlama, num_workers: 1, keep_alive: -1, max_length: 8 };
  const data = dataOf<GenerationTaskOutput>(await manager.task(seedRequest as unknown as Parameters<ModelManager['task']>[0]));
  assert.equal(data.tokens, 8, 'max_length bounds the generation');
  assert.equal(data.finishReason, 'length');
  const preload = dataOf<PreloadOutput>(await manager.task({ task_data: null, task_type: 'embedding', model_name: onnxEmbedding, keep_alive: 30 } as unknown as Parameters<ModelManager['task']>[0]));
  assert.equal(preload.preloaded, true);
  assert.equal(preload.keepAliveMinutes, 30);
});

test('a parameter the task type does not take is INVALID_ARGUMENT naming it; two spellings must agree', async () => {
  const typo = failure(await manager.task({ taskData: 'ab', taskType: 'text_generation', modelName: ggufLlama, maxLenght: 8 }));
  assert.equal(typo.code, 'INVALID_ARGUMENT');
  assert.match(typo.message, /"maxLenght"/);
  assert.match(typo.message, /maxTokens/, 'says what is accepted');
  const wrongTask = failure(await manager.task({ taskData: ['x'], taskType: 'embedding', modelName: onnxEmbedding, temperature: 0.5 }));
  assert.equal(wrongTask.code, 'INVALID_ARGUMENT');
  assert.match(wrongTask.message, /"temperature"/);
  const both = failure(await manager.task({ taskData: null, taskType: 'embedding', modelName: onnxEmbedding, keepAlive: 0, keep_alive: 5 }));
  assert.equal(both.code, 'INVALID_ARGUMENT');
  assert.match(both.message, /keepAlive.*keep_alive|keep_alive.*keepAlive/);
  const proto = failure(await manager.task(JSON.parse(`{"taskData": "x", "taskType": "text_generation", "modelName": "${ggufLlama}", "__proto__": {"maxTokens": 3}}`)));
  assert.equal(proto.code, 'INVALID_ARGUMENT');
  const notASignal = failure(await manager.task({ taskData: 'x', taskType: 'text_generation', modelName: ggufLlama, signal: {} as AbortSignal }));
  assert.equal(notASignal.code, 'INVALID_ARGUMENT');
});

test('maxTokens is capped at 32768 before any model is looked up, and for model handles too', async () => {
  for (const name of ['maxTokens', 'maxLength', 'max_new_tokens']) {
    const tooMany = failure(await manager.task({ taskData: 'x', taskType: 'text_generation', modelName: 'nobody/not-there', [name]: 1e9 }));
    assert.equal(tooMany.code, 'INVALID_TASK_DATA', name);
    assert.match(tooMany.message, /32768/);
  }
  await using handle = await manager.getModel(ggufLlama, { taskType: 'text_generation' });
  const stopped = new AbortController();
  stopped.abort();
  await assert.rejects(handle.generate('x', { maxTokens: 1e9, signal: stopped.signal }), (error: { code?: string }) => error.code === 'INVALID_TASK_DATA');
});

for (const [label, model] of [['GGUF (llama-cpp)', () => ggufLlama], ['ONNX (transformers)', () => onnxGpt2]] as const) {
  test(`${label}: a caller that aborts stops its generation; ps lists it while it runs`, async () => {
    const controller = new AbortController();
    let pieces = 0;
    let firstPiece!: () => void;
    const generating = new Promise<void>((resolve) => (firstPiece = resolve));
    const pending = manager.task({
      taskData: 'abc', taskType: 'text_generation', modelName: model(), maxTokens: 32768, signal: controller.signal,
      onToken: () => {
        pieces += 1;
        firstPiece();
      },
    });
    await generating;
    const entry = manager.ps().find((m) => m.model === model() && m.taskType === 'text_generation')!;
    assert.equal(entry.running, 1);
    assert.equal(entry.tasks.length, 1);
    assert.deepEqual({ ...entry.tasks[0], since: undefined }, { taskType: 'text_generation', state: 'running', since: undefined, maxTokens: 32768 });
    controller.abort();
    const result = await pending;
    assert.equal(failure(result).code, 'CANCELLED');
    const afterCancel = pieces;
    assert.ok(afterCancel < 32768, `${afterCancel} pieces`);
    const status = manager.getModelStatus(model())!;
    assert.deepEqual([status.running, status.tasks.length], [0, 0], 'nothing runs any more');
    const next = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'abc', taskType: 'text_generation', modelName: model(), maxTokens: 3 }));
    assert.equal(next.tokens, 3, 'the instance serves the next request');
    assert.equal(pieces, afterCancel, 'no text came after the cancel');
  });
}

test('a queued request whose caller gives up leaves the queue at once; an aborted signal never queues', async () => {
  const running = new AbortController();
  let started!: () => void;
  const generating = new Promise<void>((resolve) => (started = resolve));
  const first = manager.task({ taskData: 'x', taskType: 'text_generation', modelName: ggufLlama, maxTokens: 32768, signal: running.signal, onToken: () => started() });
  await generating;
  const waiting = new AbortController();
  const second = manager.task({ taskData: 'y', taskType: 'text_generation', modelName: ggufLlama, maxTokens: 4, signal: waiting.signal });
  const entry = () => manager.ps().find((m) => m.model === ggufLlama && m.taskType === 'text_generation')!;
  await waitFor(() => entry().queue === 1, 'the second request queued');
  assert.deepEqual(entry().tasks.map((t) => t.state).sort(), ['queued', 'running']);
  waiting.abort();
  assert.equal(failure(await second).code, 'CANCELLED');
  assert.equal(entry().queue, 0);
  assert.equal(entry().running, 1, 'the first one still runs');
  running.abort();
  assert.equal(failure(await first).code, 'CANCELLED');
  const gone = new AbortController();
  gone.abort();
  assert.equal(failure(await manager.task({ taskData: 'z', taskType: 'text_generation', modelName: ggufLlama, signal: gone.signal })).code, 'CANCELLED');
});

test('tokens are counted as generated, also when the text ends in an unfinished character', async () => {
  // Sampling over the whole byte vocabulary makes bytes that are not UTF-8 on their own; llama.cpp
  // holds those back from the text, and they were left out of the count (13 of 16, say).
  const results = [];
  for (let seed = 0; seed < 16; seed++) {
    results.push(dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'hello', taskType: 'text_generation', modelName: ggufLlama, maxTokens: 16, temperature: 3, topK: 0, topP: 1, seed })));
  }
  for (const [seed, data] of results.entries()) {
    if (data.finishReason === 'length') assert.ok(data.tokens >= 16, `seed ${seed}: ${data.tokens} tokens for maxTokens 16`);
  }
  // The byte vocabulary makes one token per byte, after the BOS token.
  for (const data of results) assert.equal(data.promptTokens, 1 + 5);
  // The ONNX decoder's byte-level BPE has no merges and no BOS: one token per byte.
  const onnx = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'héllo', taskType: 'text_generation', modelName: onnxGpt2, maxTokens: 16 }));
  assert.equal(onnx.promptTokens, Buffer.byteLength('héllo'));
  assert.equal(onnx.tokens, 16);
});

test('dimensions: a Matryoshka model gives its first values normalised again; any other model refuses', async () => {
  await registry.addModel({ modelId: 'test/plain-embedder', modelType: 'embedding_model', format: 'onnx', localPath: onnxEmbedding });
  await registry.addModel({ modelId: 'test/mrl-embedder', modelType: 'embedding_model', format: 'onnx', localPath: onnxEmbedding, tags: ['loss:MatryoshkaLoss'] });
  const texts = ['first text', 'second'];
  const full = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: 'test/mrl-embedder' }));
  assert.ok(full.dimensions > 8);
  const short = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: 'test/mrl-embedder', dimensions: 8 }));
  assert.equal(short.dimensions, 8);
  short.embeddings.forEach((vector, i) => {
    const head = full.embeddings[i]!.slice(0, 8);
    const norm = Math.hypot(...head);
    vector.forEach((v, d) => assert.ok(Math.abs(v - head[d]! / norm) < 1e-6));
  });
  const refused = failure(await manager.task({ taskData: texts, taskType: 'embedding', modelName: 'test/plain-embedder', dimensions: 8 }));
  assert.equal(refused.code, 'INVALID_ARGUMENT');
  assert.match(refused.message, /matryoshka/i);
  const tooMany = failure(await manager.task({ taskData: texts, taskType: 'embedding', modelName: 'test/mrl-embedder', dimensions: full.dimensions + 1 }));
  assert.equal(tooMany.code, 'INVALID_ARGUMENT');
});

test('countTokens fills usage.tokens on both backends, for cached texts too', async () => {
  const texts = ['hello world', 'the model'];
  // The ONNX model's WordPiece vocabulary has these four words whole: [CLS] word word [SEP] each.
  const onnx = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: onnxEmbedding, countTokens: true }));
  assert.equal(onnx.usage.tokens, 8);
  const again = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: onnxEmbedding, countTokens: true }));
  assert.deepEqual([again.cached, again.usage.tokens], [2, 8]);
  // The GGUF model's byte vocabulary: BOS, then one token per byte.
  const gguf = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: ggufEmbedding, countTokens: true }));
  assert.equal(gguf.usage.tokens, 2 + 'hello world'.length + 'the model'.length);
  const uncounted = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: ggufEmbedding }));
  assert.equal(uncounted.usage.tokens, undefined, 'counting costs a tokenization: only on request');
});
