/**
 * The runtime on a real Vulkan device: Mesa's lavapipe (see test/helpers/lavapipe.ts). llama.cpp's
 * GPU kinds, the GPU worker processes, per-device memory budgets and what loads measure.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer } from '../../src/index.js';
import { Registry } from '../../src/registry/index.js';
import { LlamaCppBackend } from '../../src/runtime/backends/llama-cpp.js';
import { checkLlamaGpus, installedPrebuilt } from '../../src/runtime/backends/llama-gpu-check.js';
import { ModelManager, type EmbeddingTaskOutput, type GenerationTaskOutput } from '../../src/runtime/index.js';
import { loadSettings } from '../../src/settings/index.js';
import { lavapipeEnv, useEnv } from '../helpers/lavapipe.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, writeTinyModels, type TinyModels } from './fixtures.js';

const lavapipe = lavapipeEnv();
const dir = tempDir('mm-gpu-lavapipe-');
let models: TinyModels;

before(async () => {
  models = await writeTinyModels(dir.path);
  if (lavapipe.env) useEnv(lavapipe.env);
});
after(() => dir[Symbol.dispose]());

/** Shared libraries a process has mapped (Linux). */
const librariesOf = (pid: number | 'self') => readFileSync(`/proc/${pid}/maps`, 'utf8');

test('auto falls from the CUDA prebuilt, which fails here, to Vulkan, and generates on lavapipe in a worker process', { skip: lavapipe.skip }, async () => {
  assert.ok(installedPrebuilt('cuda'), 'the CUDA prebuilt is installed, so auto tries it first');
  await using manager = await ModelManager.create({ llamaGpu: 'auto', onWarning: () => {} });
  const data = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'Once upon', taskType: 'text_generation', modelName: models.ggufLlama, device: 'gpu', maxTokens: 3, temperature: 0 }));
  assert.equal(data.tokens, 3);
  assert.deepEqual([data.device, data.gpuKind], ['cuda:0', 'vulkan']);

  const [llama] = manager.getStatus().gpus;
  assert.equal(llama?.backend, 'llama-cpp');
  assert.deepEqual(llama.attempts.map((a) => [a.kind, a.ok]), [['cuda', false], ['vulkan', true]]);
  assert.match(llama.attempts[0]!.reason ?? '', /CUDA/);
  assert.equal(llama.kind, 'vulkan');
  const [device] = llama.devices;
  assert.match(device?.name ?? '', /llvmpipe/);
  assert.ok(device?.worker?.alive);
  // The GPU binary runs in the worker process only: a driver abort there cannot take this process down.
  assert.match(librariesOf(device.worker.pid!), /linux-x64-vulkan/);
  assert.doesNotMatch(librariesOf('self'), /linux-x64-(vulkan|cuda)/);
  assert.deepEqual(manager.ps().map((m) => [m.device, m.gpuKind]), [['cuda:0', 'vulkan']]);
});

test('a named kind computes embeddings on the Vulkan device, and the device memory around the load and after the release is recorded', { skip: lavapipe.skip }, async () => {
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry.db') });
  await registry.addModel({ modelId: 'test/gpu-bert', modelType: 'embedding_model', format: 'gguf', localPath: models.ggufEmbedding });
  await using manager = await ModelManager.create({ registry, llamaGpu: 'vulkan', onWarning: () => {} });
  const onGpu = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['on the GPU', 'another text'], taskType: 'embedding', modelName: 'test/gpu-bert', device: 'cuda:0' }));
  assert.deepEqual([onGpu.device, onGpu.gpuKind], ['cuda:0', 'vulkan']);
  assert.deepEqual(manager.getStatus().gpus[0]?.attempts, [{ kind: 'vulkan', ok: true }]);

  // The same texts on the CPU give the same vectors: the GPU computed the model, not something else.
  await using cpu = await ModelManager.create({ gpuCount: 0 });
  const onCpu = dataOf<EmbeddingTaskOutput>(await cpu.task({ taskData: ['on the GPU', 'another text'], taskType: 'embedding', modelName: models.ggufEmbedding, device: 'cpu' }));
  assert.equal(onCpu.device, 'cpu');
  onGpu.embeddings.forEach((vector, i) => vector.forEach((x, d) => assert.ok(Math.abs(x - onCpu.embeddings[i]![d]!) < 1e-3, `text ${i} dim ${d}`)));

  const status = manager.getModelStatus('test/gpu-bert')!;
  assert.ok(status.sizeVram > 0, 'GPU memory reserved');
  const device = manager.getStatus().gpus[0]!.devices[0]!;
  assert.equal(device.vram?.reservedBytes, status.sizeVram);
  assert.equal(device.vram?.budgetBytes, Math.floor(device.vram!.totalBytes * 0.9));

  // The server says the same: the device and its memory in /api/system/resources, the kind in /api/ps.
  const app = await createServer({ registry, runtime: manager });
  try {
    const resources = (await app.inject('/api/system/resources')).json() as { gpus: { kind: string; devices: { name: string; vram: { reservedBytes: number } }[] }[] };
    assert.equal(resources.gpus[0]?.kind, 'vulkan');
    assert.match(resources.gpus[0]!.devices[0]!.name, /llvmpipe/);
    assert.equal(resources.gpus[0]!.devices[0]!.vram.reservedBytes, status.sizeVram);
    const ps = (await app.inject('/api/ps')).json() as { models: { name: string; device: string; gpu_kind: string; size_vram: number }[] };
    assert.deepEqual(ps.models.map((m) => [m.name, m.device, m.gpu_kind, m.size_vram]), [['test/gpu-bert', 'cuda:0', 'vulkan', status.sizeVram]]);
  } finally {
    await app.close();
  }

  assert.equal(await manager.releaseModel('test/gpu-bert'), true);
  await manager.flushMeasurements();
  const measured = (await registry.getModel('test/gpu-bert'))?.measured;
  assert.equal(measured?.device, 'cuda:0');
  assert.equal(measured?.gpuKind, 'vulkan');
  const [vram] = measured?.vram ?? [];
  assert.ok(vram && vram.totalBytes > 0 && vram.afterReleaseBytes !== undefined, JSON.stringify(measured));
  // Freed: the device is back where it was before the load (lavapipe reports no usage, a real GPU does).
  assert.ok(Math.abs(vram.afterReleaseBytes - vram.beforeLoadBytes) <= 0.02 * vram.totalBytes, JSON.stringify(vram));
});

test('GPU memory is a budget per device: idle models on the device are evicted first, and OUT_OF_MEMORY names the device', { skip: lavapipe.skip }, async () => {
  const estimator = new LlamaCppBackend({ gpu: 'cpu' });
  const llama = (await estimator.estimateMemory({ path: models.ggufLlama }, 'gpu'))!.vramBytes;
  const bert = (await estimator.estimateMemory({ path: models.ggufEmbedding }, 'gpu'))!.vramBytes;
  // Room for either model alone, not for both.
  const budget = Math.max(llama, bert) + Math.min(llama, bert) / 2;
  const { vramTotalBytes } = await checkLlamaGpus('vulkan');
  await using manager = await ModelManager.create({ llamaGpu: 'vulkan', gpuMemoryFraction: budget / vramTotalBytes, defaultKeepAlive: -1, onWarning: () => {} });

  dataOf(await manager.task({ taskData: null, taskType: 'text_generation', modelName: models.ggufLlama, device: 'gpu' }));
  // The idle llama on cuda:0 makes room for the bert.
  const handle = await manager.getModel(models.ggufEmbedding, { taskType: 'embedding', device: 'gpu' });
  assert.deepEqual(manager.ps().map((m) => m.name), [models.ggufEmbedding]);
  assert.equal(manager.getStatus().counters.evictions, 1);

  // The bert is held: nothing on the device can go, and the RAM budget has room to spare.
  const refused = await manager.task({ taskData: null, taskType: 'text_generation', modelName: models.ggufLlama, device: 'gpu' });
  assert.equal(refused.success, false);
  if (!refused.success) {
    assert.equal(refused.error.code, 'OUT_OF_MEMORY');
    assert.match(refused.error.message, /on cuda:0 \(llvmpipe.*GPU memory/);
    assert.match(String(refused.error.details.device), /^cuda:0 \(llvmpipe/);
  }
  handle.release();
});

test('settings on the GPU: gpu_memory_fraction is each device\'s budget, and tokens are counted in the worker (a configured max_input_length, usage.tokens)', { skip: lavapipe.skip }, async () => {
  const file = join(dir.path, 'settings.yaml');
  writeFileSync(file, [
    'gpu_memory_fraction: 0.5',
    'models:',
    '  writer:',
    '    type: text_generation',
    `    local_path: ${JSON.stringify(models.ggufLlama)}`,
    '    device: gpu',
    '    max_input_length: 8',
    '    max_output_length: 2',
  ].join('\n'));
  await using manager = await ModelManager.create({ settings: await loadSettings({ file, env: {} }), llamaGpu: 'vulkan', onWarning: () => {} });
  const short = dataOf<GenerationTaskOutput>(await manager.task({ modelName: 'writer', taskData: 'Once', temperature: 0 }));
  assert.deepEqual([short.device, short.gpuKind, short.tokens], ['cuda:0', 'vulkan', 2]);
  const device = manager.getStatus().gpus[0]!.devices[0]!;
  assert.equal(device.vram?.budgetBytes, Math.floor(device.vram!.totalBytes * 0.5));

  const long = await manager.task({ modelName: 'writer', taskData: 'one two three four five six seven eight nine ten' });
  assert.equal(long.success, false);
  if (!long.success) {
    assert.equal(long.error.code, 'INVALID_TASK_DATA');
    assert.match(long.error.message, /takes at most 8 \(models\.writer\.maxInputLength\)/);
  }

  const texts = ['counted on the GPU', 'and another'];
  const onGpu = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: texts, taskType: 'embedding', modelName: models.ggufEmbedding, device: 'gpu', countTokens: true }));
  assert.equal(onGpu.device, 'cuda:0');
  await using cpu = await ModelManager.create({ settings: false, gpuCount: 0 });
  const onCpu = dataOf<EmbeddingTaskOutput>(await cpu.task({ taskData: texts, taskType: 'embedding', modelName: models.ggufEmbedding, device: 'cpu', countTokens: true }));
  assert.ok(onCpu.usage.tokens! > texts.length);
  assert.equal(onGpu.usage.tokens, onCpu.usage.tokens);
});
