/**
 * Model names: registry ids (localPath), the Hugging Face cache, ./models and paths; and the
 * measurements each load writes back into the registry.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeSafetensors } from '../../src/formats/index.js';
import { Registry } from '../../src/registry/index.js';
import { ModelManager, type EmbeddingTaskOutput } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, writeTinyModels, type TinyModels } from './fixtures.js';

const dir = tempDir('mm-runtime-resolve-');
let models: TinyModels;

before(async () => {
  models = await writeTinyModels(dir.path);
});
after(() => dir[Symbol.dispose]());

const embed = (modelName: string) => ({ taskData: ['resolve me'], taskType: 'embedding', modelName });

test('a registry id runs the model at its localPath, and the load is measured into the registry', async () => {
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry.db') });
  await registry.addModel({ modelId: 'test/tiny-bert', modelType: 'embedding_model', format: 'gguf', localPath: models.ggufEmbedding });
  await using manager = await ModelManager.create({ registry, gpuCount: 0 });
  const data = dataOf<EmbeddingTaskOutput>(await manager.task(embed('test/tiny-bert')));
  assert.equal(data.model, 'test/tiny-bert');
  await manager.flushMeasurements();
  const measured = (await registry.getModel('test/tiny-bert'))?.measured;
  assert.ok(measured, 'measured written');
  assert.ok(measured.loadTimeMs > 0);
  assert.equal(measured.device, 'cpu');
  assert.equal(measured.backend, 'llama-cpp');
  // A loaded model holds at least its weights: the GGUF file's tensors, all but its header and
  // vocabulary (a few KiB of a tiny model), and not much besides for a tiny context.
  const fileBytes = readdirSync(models.ggufEmbedding).filter((f) => f.endsWith('.gguf')).reduce((a, f) => a + statSync(join(models.ggufEmbedding, f)).size, 0);
  assert.ok(measured.memoryBytes >= 0.9 * fileBytes, `measured ${measured.memoryBytes} bytes, the weights file has ${fileBytes}`);
  assert.ok(measured.memoryBytes < fileBytes + 256 * 2 ** 20, `measured ${measured.memoryBytes} bytes for a ${fileBytes}-byte model`);
  assert.ok((measured.throughput ?? 0) > 0);
  assert.equal(measured.throughputUnit, 'texts/s');
  // The same model asked for by path is the same loaded model, and its path names it in the registry.
  dataOf(await manager.task(embed(models.ggufEmbedding)));
  assert.equal(manager.getStatus().counters.loads, 1);
  assert.equal(manager.ps()[0]?.model, 'test/tiny-bert');
});

test('a registered folder whose weights are safetensors runs from its ONNX export', async () => {
  // As sentence-transformers repos ship: model.safetensors beside onnx/model.onnx; discovery records format safetensors.
  const both = join(dir.path, 'both-exports');
  cpSync(models.onnxEmbedding, both, { recursive: true });
  writeFileSync(join(both, 'model.safetensors'), encodeSafetensors({ w: { dtype: 'F32', shape: [2] } }));
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry-both.db') });
  await registry.addModel({ modelId: 'test/both', modelType: 'embedding_model', format: 'safetensors', localPath: both });
  await using manager = await ModelManager.create({ registry, gpuCount: 0 });
  assert.equal(dataOf<EmbeddingTaskOutput>(await manager.task(embed('test/both'))).model, 'test/both');
  await manager.flushMeasurements();
  assert.equal((await registry.getModel('test/both'))?.measured?.backend, 'transformers');
});

test('a registered model whose files are gone, or that has no localPath, says what to do', async () => {
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry2.db') });
  await registry.addModel({ modelId: 'test/gone', modelType: 'embedding_model', localPath: join(dir.path, 'nowhere') });
  await registry.addModel({ modelId: 'test/remote-only', modelType: 'embedding_model' });
  // Without autoPull: a registered hub id with no files would be pulled (test/hub/auto-pull.test.ts).
  await using manager = await ModelManager.create({ registry, gpuCount: 0, autoPull: false });
  for (const [name, hint] of [['test/gone', /restore the files|mm scan/], ['test/remote-only', /no localPath/]] as const) {
    const result = await manager.task(embed(name));
    assert.equal(result.success ? '' : result.error.code, 'MODEL_NOT_FOUND');
    if (!result.success) assert.match(result.error.message, hint);
  }
});

test('a Hugging Face id runs from the HF cache snapshot refs/main points at', async () => {
  const hubCache = join(dir.path, 'hub');
  const repo = join(hubCache, 'models--acme--tiny-onnx');
  cpSync(models.onnxEmbedding, join(repo, 'snapshots', 'abc123'), { recursive: true });
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), 'abc123\n');
  await using manager = await ModelManager.create({ gpuCount: 0, hubCache, modelRoots: [] });
  const data = dataOf<EmbeddingTaskOutput>(await manager.task(embed('acme/tiny-onnx')));
  assert.ok(data.dimensions > 0);
  assert.equal(manager.getModelStatus('acme/tiny-onnx')?.path, join(repo, 'snapshots', 'abc123'));
});

test('a bare name is looked up under the model roots (./models by default)', async () => {
  const root = join(dir.path, 'models');
  cpSync(models.ggufLlama, join(root, 'my-llama'), { recursive: true });
  await using manager = await ModelManager.create({ gpuCount: 0, modelRoots: [root] });
  const result = await manager.task({ taskData: 'hi', taskType: 'text_generation', modelName: 'my-llama', maxTokens: 2 });
  assert.equal(result.success, true);
});

test('a single model file works as a name, like its folder', async () => {
  const { readdirSync } = await import('node:fs');
  const file = join(models.ggufEmbedding, readdirSync(models.ggufEmbedding).find((f) => f.endsWith('.gguf'))!);
  await using manager = await ModelManager.create({ gpuCount: 0 });
  assert.equal((await manager.task(embed(file))).success, true);
});

test('asking for a GPU on a machine without one runs on CPU with a warning', async () => {
  const warnings: string[] = [];
  await using manager = await ModelManager.create({ gpuCount: 0, onWarning: (w) => warnings.push(w) });
  const data = dataOf<{ device: string }>(await manager.task({ taskData: null, taskType: 'embedding', modelName: models.onnxEmbedding, device: 'gpu' }));
  assert.equal(data.device, 'cpu');
  assert.match(warnings.join('\n'), /no GPU was found/);
  assert.match(manager.getModelStatus(models.onnxEmbedding)?.warnings.join() ?? '', /no GPU/);
});
