/**
 * The runtime benchmark on a GPU (`npm run bench:runtime -- --device gpu`), each figure against a
 * baseline measured in the same run on the same device:
 *
 *   0. the GPU kind `auto` (or MM_LLAMA_GPU) chose, and why each kind before it failed
 *   1. generation tokens/s through task() (a GPU worker process) vs node-llama-cpp in this process
 *   2. the device's used memory before the load, after it and after the release (`measured.vram`)
 *   3. 64 concurrent one-text embedding requests vs one request at a time, through task(), with
 *      1, 2 and 4 embedding contexts per GPU worker (llama.cpp embeds one sequence per context)
 *
 * Rehearse on lavapipe (a CPU Vulkan device) with `--size tiny`: see docs/runtime.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from '../src/registry/index.js';
import { LlamaCppBackend } from '../src/runtime/backends/llama-cpp.js';
import type { LlamaGpuKind } from '../src/runtime/backends/llama-gpu-check.js';
import { pinToGpu } from '../src/runtime/gpu/gpu-worker.js';
import { describeAttempts, ModelManager, type DeviceRequest } from '../src/runtime/index.js';
import type { TestModelSize } from '../src/testmodels/index.js';
import { benchModel, header, median, ok, progress, row, sentences, time } from './runtime-common.js';

export interface GpuBenchOptions {
  device: Exclude<DeviceRequest, 'cpu'>;
  size: TestModelSize;
  /** Tokens per generation. */
  tokens: number;
  rounds: number;
}

const PROMPT = 'Once upon a time';

export async function gpuBench({ device, size, tokens, rounds }: GpuBenchOptions): Promise<void> {
  const llamaPath = await benchModel('gguf', 'text_generation', size);
  const bertPath = await benchModel('gguf', 'embedding', size);
  const home = mkdtempSync(join(tmpdir(), 'mm-bench-gpu-'));
  try {
    await using registry = await Registry.open({ store: 'sqlite', db: join(home, 'registry.db') });
    await registry.addModel({ modelId: 'bench/llama', modelType: 'decoder_only', format: 'gguf', localPath: llamaPath });
    await using manager = await ModelManager.create({ registry, defaultKeepAlive: -1, embeddingCache: { maxEntries: 0 }, onWarning: (w) => progress(`warning: ${w}`) });

    // (0) the kind: a load on the GPU asks llama.cpp's check.
    progress('(0) GPU check and load');
    const preload = ok(await manager.task({ taskData: null, taskType: 'text_generation', modelName: 'bench/llama', device }));
    const [llama] = manager.getStatus().gpus;
    const failed = describeAttempts(llama?.attempts ?? []);
    process.stdout.write(`llama.cpp GPU kind: ${llama?.kind || 'none'}${llama?.devices.length ? ` on ${llama.devices.map((d) => `${d.device} ${d.name}`).join(', ')}` : ''}${failed ? `; tried before: ${failed}` : ''}\n\n`);
    if (!llama || llama.kind === false || preload.device === 'cpu') {
      process.stdout.write('no GPU computes here: nothing to measure on a GPU (run without --device for the CPU figures)\n');
      return;
    }
    const kind = llama.kind as LlamaGpuKind;
    const index = Number(preload.device.startsWith('cuda:') ? preload.device.slice('cuda:'.length) : 0);
    header();

    // (1) tokens/s: the same GPU, pinned in this process the way the worker is pinned.
    progress(`(1) generation, ${tokens} tokens, task() vs node-llama-cpp in this process`);
    Object.assign(process.env, pinToGpu(kind, index));
    const direct = await new LlamaCppBackend({ gpu: kind, checkGpu: false }).load({ path: llamaPath, taskType: 'text_generation', device: 'gpu' });
    const params = { maxTokens: tokens, temperature: 0, seed: 1 };
    const tokensPerSecond = async (run: () => Promise<{ tokens: number }>) => {
      let made = 0;
      const ms = await time(async () => (made = (await run()).tokens));
      return (made / ms) * 1000;
    };
    const viaDirect = () => tokensPerSecond(() => direct.generate!(PROMPT, params));
    const viaTask = () => tokensPerSecond(async () => ok(await manager.task({ taskData: PROMPT, taskType: 'text_generation', modelName: 'bench/llama', ...params })));
    await viaDirect();
    await viaTask();
    const pairs: [number, number][] = [];
    for (let r = 0; r < rounds; r++) pairs.push(r % 2 === 0 ? [await viaDirect(), await viaTask()] : ([await viaTask(), await viaDirect()].reverse() as [number, number]));
    const [a, b] = [median(pairs.map((p) => p[0])), median(pairs.map((p) => p[1]))];
    row(`generation tokens/s, ${preload.device} (${kind})`, `${a.toFixed(1)} tokens/s node-llama-cpp`, `${b.toFixed(1)} tokens/s task()`, `${median(pairs.map(([x, y]) => y / x)).toFixed(3)}x`, '>= 0.97x');
    await direct.dispose();

    // (2) the device's used memory around the load and after the release.
    progress('(2) device memory');
    await manager.releaseModel('bench/llama');
    await manager.flushMeasurements();
    for (const m of (await registry.getModel('bench/llama'))?.measured?.vram ?? []) {
      const mib = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
      const back = m.afterReleaseBytes === undefined ? 'n/a' : `${(((m.afterReleaseBytes - m.beforeLoadBytes) / m.totalBytes) * 100).toFixed(2)}% of the device`;
      row(`VRAM used on ${m.device} (${m.deviceName}), of ${mib(m.totalBytes)}`, `${mib(m.beforeLoadBytes)} before load`, `${mib(m.afterLoadBytes)} after load, ${mib(m.afterReleaseBytes)} after release`, back, 'within 2%');
    }

    // (3) batching through the worker, with 1, 2 and 4 embedding contexts per GPU worker.
    for (const contexts of [1, 2, 4]) {
      progress(`(3) 64 concurrent embeddings, ${contexts} context(s) per GPU worker`);
      await using embedder = await ModelManager.create({ defaultKeepAlive: -1, embeddingCache: { maxEntries: 0 }, onWarning: (w) => progress(`warning: ${w}`) });
      embedder.registerBackend(new LlamaCppBackend({ embeddingContexts: contexts }));
      ok(await embedder.task({ taskData: null, taskType: 'embedding', modelName: bertPath, device: preload.device }));
      const embed = (text: string) => embedder.task({ taskData: [text], taskType: 'embedding', modelName: bertPath }).then(ok);
      // Every text length once, alone and together, before timing: a GPU compiles its kernels per shape on first use.
      for (const t of sentences(64, 99)) await embed(t);
      await Promise.all(sentences(64, 98).map(embed));
      const runs: [number, number][] = [];
      let callsPerRound = 0;
      for (let r = 0; r < rounds; r++) {
        const texts = sentences(64, r);
        const oneAtATime = () => time(async () => {
          for (const t of texts) await embed(t);
        });
        const together = () => {
          const before = embedder.getModelStatus(bertPath)?.backendCalls ?? 0;
          return time(() => Promise.all(texts.map(embed))).finally(() => (callsPerRound = (embedder.getModelStatus(bertPath)?.backendCalls ?? 0) - before));
        };
        runs.push(r % 2 === 0 ? [await oneAtATime(), await together()] : ([await together(), await oneAtATime()].reverse() as [number, number]));
      }
      const [alone, batched] = [median(runs.map((x) => x[0])), median(runs.map((x) => x[1]))];
      row(`64 concurrent 1-text embeddings, ${contexts} context(s)/worker, ${preload.device}`, `${((64 / alone) * 1000).toFixed(0)} texts/s one at a time`, `${((64 / batched) * 1000).toFixed(0)} texts/s concurrent (${callsPerRound} calls)`, `${(alone / batched).toFixed(2)}x`, '>= 2x');
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}


