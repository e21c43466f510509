/**
 * GPU workers as processes, on lavapipe (see test/helpers/lavapipe.ts): one per GPU, a worker
 * killed while it holds a request, and a machine without a Vulkan device.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isModelManagerError } from '../../src/errors.js';
import { LlamaCppBackend } from '../../src/runtime/backends/llama-cpp.js';
import { GpuWorker } from '../../src/runtime/gpu/gpu-worker.js';
import { RemoteModel } from '../../src/runtime/gpu/remote-model.js';
import { ModelManager, type EmbeddingTaskOutput, type GenerationTaskOutput, type PreloadOutput } from '../../src/runtime/index.js';
import { lavapipeEnv, useEnv } from '../helpers/lavapipe.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, writeTinyModels, type TinyModels } from './fixtures.js';

const exec = promisify(execFile);
const oneDevice = lavapipeEnv(1);
const twoDevices = lavapipeEnv(2);
const dir = tempDir('mm-gpu-workers-');
let models: TinyModels;

before(async () => {
  models = await writeTinyModels(dir.path);
});
after(() => dir[Symbol.dispose]());

test('numWorkers on device gpu places one worker process per GPU: lavapipe named twice is two devices', { skip: twoDevices.skip }, async () => {
  useEnv(twoDevices.env!);
  try {
    await using manager = await ModelManager.create({ llamaGpu: 'vulkan', onWarning: () => {} });
    // Three asked, two GPUs: capped by the GPUs found.
    const preload = dataOf<PreloadOutput>(await manager.task({ taskData: null, taskType: 'embedding', modelName: models.ggufEmbedding, device: 'gpu', numWorkers: 3 }));
    assert.deepEqual([preload.workers, preload.device, preload.gpuKind], [2, 'gpu', 'vulkan']);
    const devices = manager.getStatus().gpus[0]!.devices;
    assert.deepEqual(devices.map((d) => d.device), ['cuda:0', 'cuda:1']);
    const pids = devices.map((d) => d.worker?.pid);
    assert.equal(new Set(pids).size, 2, `two worker processes: ${pids.join(', ')}`);
    assert.ok(devices.every((d) => d.vram && d.vram.reservedBytes > 0), 'each device holds one instance');

    // Two requests that cannot share a batch (other parameters) go out at once, one to each idle worker.
    const results = await Promise.all([true, false].map((normalize) => manager.task({ taskData: ['one text'], taskType: 'embedding', modelName: models.ggufEmbedding, normalize })));
    assert.ok(results.every((r) => r.success && r.data.embeddings[0]!.length === 64));
    assert.equal(manager.getModelStatus(models.ggufEmbedding)?.backendCalls, 2);

    // cuda:N pins one worker: the second GPU's, already running.
    const pinned = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'Once upon', taskType: 'text_generation', modelName: models.ggufLlama, device: 'cuda:1', maxTokens: 2 }));
    assert.deepEqual([pinned.device, pinned.gpuKind], ['cuda:1', 'vulkan']);
    assert.deepEqual(manager.getStatus().gpus[0]!.devices.map((d) => d.worker?.pid), pids);
  } finally {
    useEnv({ GGML_VK_VISIBLE_DEVICES: undefined, VK_DRIVER_FILES: undefined });
  }
});

test('a GPU worker killed while it holds a request: the request gets WORKER_LOST, the next request succeeds on a new worker', { skip: oneDevice.skip }, async () => {
  useEnv(oneDevice.env!);
  try {
    const warnings: string[] = [];
    await using manager = await ModelManager.create({ llamaGpu: 'vulkan', onWarning: (w) => warnings.push(w) });
    dataOf(await manager.task({ taskData: null, taskType: 'text_generation', modelName: models.ggufLlama, device: 'gpu', keepAlive: -1 }));
    const first = manager.getStatus().gpus[0]!.devices[0]!.worker!.pid!;

    // Killed at its first token, as a driver abort would end it.
    const killed = await manager.task({
      taskData: 'Once upon a time', taskType: 'text_generation', modelName: models.ggufLlama, maxTokens: 64, temperature: 0,
      onToken: () => process.kill(first, 'SIGKILL'),
    });
    assert.equal(killed.success, false);
    if (!killed.success) {
      assert.equal(killed.error.code, 'WORKER_LOST');
      assert.match(killed.error.message, /cuda:0 \(llvmpipe.*SIGKILL.*retry/);
    }
    assert.equal(manager.getStatus().counters.workersLost, 1);
    assert.ok(warnings.some((w) => /WORKER_LOST|ended \(SIGKILL\)/.test(w)), warnings.join('\n'));

    const next = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'Once upon', taskType: 'text_generation', modelName: models.ggufLlama, maxTokens: 2, device: 'gpu' }));
    assert.deepEqual([next.tokens, next.device], [2, 'cuda:0']);
    const second = manager.getStatus().gpus[0]!.devices[0]!.worker!;
    assert.notEqual(second.pid, first);
    assert.ok(second.alive);
  } finally {
    useEnv({ GGML_VK_VISIBLE_DEVICES: undefined, VK_DRIVER_FILES: undefined });
  }
});

test('an instance in a GPU worker refuses every method once disposed, in the manager and in the worker', { skip: oneDevice.skip }, async () => {
  useEnv(oneDevice.env!);
  const worker = await GpuWorker.start({ spec: new LlamaCppBackend().workerSpec(), kind: 'vulkan', index: 0 });
  try {
    const disposed = (error: unknown) => isModelManagerError(error, 'MODEL_DISPOSED');
    const remote = await RemoteModel.load(worker, { path: models.ggufEmbedding, taskType: 'embedding' });
    assert.equal((await remote.countTokens!(['before'])).length, 1, 'it counts tokens in the worker before');
    await remote.dispose();
    await assert.rejects(remote.embed(['after'], {}), disposed);
    await assert.rejects(remote.generate('after', { maxTokens: 1 }), disposed);
    await assert.rejects(remote.countTokens!(['after']), disposed);
    await assert.doesNotReject(remote.dispose());

    // The worker refuses an instance it no longer holds, whoever asks.
    const { instance } = await worker.call({ op: 'load', path: models.ggufEmbedding, taskType: 'embedding' });
    await worker.call({ op: 'dispose', instance });
    await assert.rejects(worker.call({ op: 'embed', instance, texts: ['after'], params: {} }), disposed);

    // The manager's side refuses before anything crosses: with the worker gone, still MODEL_DISPOSED, not WORKER_LOST.
    await worker.stop();
    await assert.rejects(remote.embed(['after'], {}), disposed);
    await assert.rejects(remote.countTokens!(['after']), disposed);
  } finally {
    await worker.stop();
    useEnv({ GGML_VK_VISIBLE_DEVICES: undefined, VK_DRIVER_FILES: undefined });
  }
});

test('a Vulkan loader whose only device llama.cpp does not use (lavapipe, not named) is no GPU, not one', { skip: oneDevice.skip }, async () => {
  useEnv({ VK_DRIVER_FILES: oneDevice.env?.VK_DRIVER_FILES, GGML_VK_VISIBLE_DEVICES: undefined });
  try {
    await using manager = await ModelManager.create({ llamaGpu: 'vulkan', onWarning: () => {} });
    const ran = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['no GPU here'], taskType: 'embedding', modelName: models.ggufEmbedding, device: 'gpu' }));
    assert.equal(ran.device, 'cpu');
    assert.equal(manager.getStatus().gpuCount, 0);
    assert.match(manager.getStatus().gpus[0]!.attempts[0]!.reason ?? '', /sees no GPU device/);
  } finally {
    useEnv({ VK_DRIVER_FILES: undefined });
  }
});

test('device gpu on a machine without a Vulkan device runs on the CPU, and says why each GPU kind failed', async () => {
  const env = { ...process.env, MM_HOME: join(dir.path, 'home'), VK_DRIVER_FILES: join(dir.path, 'no-such-driver.json'), GGML_VK_VISIBLE_DEVICES: '0' };
  const { stdout, stderr } = await exec(process.execPath, ['dist/src/cli/main.js', 'generate', models.ggufLlama, 'Once upon', '--device', 'gpu', '--max-tokens', '2', '--json'], { env, timeout: 300_000 });
  const data = JSON.parse(stdout) as GenerationTaskOutput;
  assert.equal(data.tokens, 2);
  assert.equal(data.device, 'cpu');
  assert.equal(data.gpuKind, undefined);
  assert.match(stderr, /device "gpu" asked for, but no GPU was found: running on CPU/);
  assert.match(stderr, /vulkan: .*Vulkan/);

  // mm ps says which GPU kinds this process would use, and why each failed.
  const ps = await exec(process.execPath, ['dist/src/cli/main.js', 'ps'], { env, timeout: 300_000 });
  assert.match(ps.stdout, /GPU, llama-cpp: none, running on the CPU\n\s+tried: cuda: .*; vulkan: .*Vulkan/);
  const psJson = JSON.parse((await exec(process.execPath, ['dist/src/cli/main.js', 'ps', '--json'], { env, timeout: 300_000 })).stdout) as { gpus: { backend: string; kind: string | false }[] };
  assert.deepEqual(psJson.gpus.map((g) => [g.backend, g.kind]), [['transformers', false], ['llama-cpp', false]]);

  // In a manager of this process, the same is in getStatus(): each kind tried, and why it failed.
  useEnv({ VK_DRIVER_FILES: env.VK_DRIVER_FILES, GGML_VK_VISIBLE_DEVICES: '0' });
  try {
    await using manager = await ModelManager.create({ llamaGpu: 'vulkan', onWarning: () => {} });
    const ran = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['no GPU here'], taskType: 'embedding', modelName: models.ggufEmbedding, device: 'gpu' }));
    assert.equal(ran.device, 'cpu');
    const [llama] = manager.getStatus().gpus;
    assert.deepEqual([llama?.kind, llama?.devices], [false, []]);
    assert.equal(manager.getStatus().gpuCount, 0);
    assert.match(llama!.attempts[0]!.reason ?? '', /Vulkan/);
    assert.match(manager.getModelStatus(models.ggufEmbedding)!.warnings.join('\n'), /vulkan: /);
  } finally {
    useEnv({ GGML_VK_VISIBLE_DEVICES: undefined, VK_DRIVER_FILES: undefined });
  }
});
