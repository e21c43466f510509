/**
 * Runtime benchmark: what ModelManager costs and what it buys, each figure against a baseline
 * measured in the same run, on the same generated 'bench' models (realistic shapes, random
 * weights) and the same inputs.
 *
 *   1. task() overhead against calling the backend's loaded model directly (single request)
 *   2. 64 concurrent single-text embedding requests: dynamic batching vs one call each
 *   3. embedding cache hits per second (against backend embeddings per second)
 *   4. cold load: task({taskData: null}) against the backend's own load()
 *
 * Run: npm run bench:runtime   (models are written once to $TMPDIR/mm-bench-models)
 *      npm run bench:runtime -- --device gpu   (on a GPU: bench/runtime-gpu.ts)
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { LlamaCppBackend } from '../src/runtime/backends/llama-cpp.js';
import { TransformersBackend } from '../src/runtime/backends/transformers.js';
import { ModelManager, parseDevice, type InferenceBackend, type LoadedModel } from '../src/runtime/index.js';
import type { TestModelSize } from '../src/testmodels/index.js';
import { benchModel, header, median, MODELS_DIR, ok, progress, row, sentences, time } from './runtime-common.js';
import { gpuBench } from './runtime-gpu.js';

const { values: args } = parseArgs({
  options: {
    /** cpu (the default), or where GPU runs go: gpu, cuda:N, auto. */
    device: { type: 'string', default: 'cpu' },
    /** Size of the generated models: bench (realistic shapes), small, tiny (a lavapipe rehearsal). */
    size: { type: 'string', default: 'bench' },
    /** Tokens per generation in the GPU tokens/s rows. */
    tokens: { type: 'string', default: '128' },
    /** Rounds of each GPU comparison (the median is reported). */
    rounds: { type: 'string', default: '4' },
  },
});

/**
 * Hands the manager an instance loaded beforehand, so both sides of a ratio run on the very same
 * loaded model (two onnxruntime sessions in one process would fight over the same two cores).
 */
function sharedInstanceBackend(instance: LoadedModel, taskType: string): InferenceBackend {
  return {
    name: `shared-${instance.backend}`,
    tasks: [taskType],
    supports: () => true,
    load: async () => ({
      backend: instance.backend,
      device: instance.device,
      ...(instance.embed ? { embed: (texts: readonly string[], params: object) => instance.embed!(texts, params) } : {}),
      ...(instance.generate ? { generate: (prompt: string, params: object) => instance.generate!(prompt, params) } : {}),
      dispose: async () => {},
    }),
  };
}


/**
 * (1) Single requests in adjacent pairs (order alternating), so drift on a shared machine hits
 * both sides alike; the overhead is the median of the per-pair ratios.
 */
async function overhead(label: string, direct: () => Promise<unknown>, viaTask: () => Promise<unknown>, reps: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await direct();
    await viaTask();
  }
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < reps; i++) {
    const [x, y] = i % 2 === 0 ? [await time(direct), await time(viaTask)] : ([await time(viaTask), await time(direct)].reverse() as [number, number]);
    a.push(x);
    b.push(y);
    ratios.push(y / x);
  }
  row(`task() overhead, ${label}`, `${median(a).toFixed(2)} ms direct`, `${median(b).toFixed(2)} ms task()`, `${((median(ratios) - 1) * 100).toFixed(1)}%`, '<= 5%');
}

/** The CPU runs: every ratio on the same loaded instance, in this process. */
async function cpuBench(size: TestModelSize): Promise<void> {
  const onnxEmbedding = await benchModel('onnx', 'embedding', size);
  const ggufEmbedding = await benchModel('gguf', 'embedding', size);
  const ggufLlama = await benchModel('gguf', 'text_generation', size);
  const backends: Record<string, InferenceBackend> = { transformers: new TransformersBackend(), 'llama-cpp': new LlamaCppBackend() };
  const load = (backend: string, path: string, taskType: string): Promise<LoadedModel> =>
    backends[backend]!.load({ path, taskType, device: 'cpu' });
  header();

  // (1) overhead of one request through task(), cache off so every call reaches the model.
  {
    const text = sentences(1)[0]!;
    const onnx = await load('transformers', onnxEmbedding, 'embedding');
    await using manager = await ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 }, defaultKeepAlive: -1 });
    manager.registerBackend(sharedInstanceBackend(onnx, 'embedding'));
    progress('(1) task() overhead, ONNX embedding');
    await overhead('ONNX embedding (1 text)', () => onnx.embed!([text], {}), async () => ok(await manager.task({ taskData: [text], taskType: 'embedding', modelName: onnxEmbedding })), 200);
    await onnx.dispose();
  }
  {
    const llama = await load('llama-cpp', ggufLlama, 'text_generation');
    await using manager = await ModelManager.create({ gpuCount: 0, defaultKeepAlive: -1 });
    manager.registerBackend(sharedInstanceBackend(llama, 'text_generation'));
    const params = { maxTokens: 8, temperature: 0, seed: 1 };
    progress('(1) task() overhead, GGUF generation');
    await overhead('GGUF llama generation (8 tokens)', () => llama.generate!('Once upon a time', params), async () => ok(await manager.task({ taskData: 'Once upon a time', taskType: 'text_generation', modelName: ggufLlama, ...params })), 16);
    await llama.dispose();
  }

  // (2) 64 concurrent single-text requests: batched through task() vs a loop of one call each, same instance.
  for (const [label, backend, path] of [['ONNX', 'transformers', onnxEmbedding], ['GGUF', 'llama-cpp', ggufEmbedding]] as const) {
    progress(`(2) batching, ${label}`);
    const model = await load(backend, path, 'embedding');
    await using manager = await ModelManager.create({ gpuCount: 0, embeddingCache: { maxEntries: 0 }, defaultKeepAlive: -1 });
    manager.registerBackend(sharedInstanceBackend(model, 'embedding'));
    ok(await manager.task({ taskData: null, taskType: 'embedding', modelName: path }));
    await model.embed!(sentences(4, 7), {});
    const runs: [naive: number, batched: number, ideal: number][] = [];
    for (let round = 0; round < 4; round++) {
      const texts = sentences(64, round);
      const naiveRun = () => time(async () => {
        for (const t of texts) await model.embed!([t], {});
      });
      const batchedRun = () => time(() => Promise.all(texts.map((t) => manager.task({ taskData: [t], taskType: 'embedding', modelName: path }).then(ok))));
      // The most any batching can win here: the backend handed the texts sorted by length, 16 a call, with no scheduler in between.
      const sorted = [...texts].sort((a, b) => a.length - b.length);
      const idealRun = () => time(async () => {
        for (let i = 0; i < sorted.length; i += 16) await model.embed!(sorted.slice(i, i + 16), {});
      });
      // Rotate which side goes first, so a noisy neighbour hurts all alike.
      const order = [naiveRun, batchedRun, idealRun];
      const took = new Map<unknown, number>();
      for (let k = 0; k < 3; k++) {
        const run = order[(k + round) % 3]!;
        took.set(run, await run());
      }
      runs.push([took.get(naiveRun)!, took.get(batchedRun)!, took.get(idealRun)!]);
    }
    const naive = median(runs.map((r) => r[0]));
    const batched = median(runs.map((r) => r[1]));
    const ideal = median(runs.map((r) => r[2]));
    const calls = manager.getModelStatus(path)?.backendCalls ?? 0;
    row(`64 concurrent 1-text requests, ${label}`, `${((64 / naive) * 1000).toFixed(0)} texts/s one call each`, `${((64 / batched) * 1000).toFixed(0)} texts/s batched (${(calls / 4).toFixed(0)} calls/round)`, `${(naive / batched).toFixed(2)}x`, '>= 2x');
    row(`  the same texts, 16 a call straight to the backend (no scheduler)`, '', `${((64 / ideal) * 1000).toFixed(0)} texts/s`, `${(naive / ideal).toFixed(2)}x`, 'ceiling');
    await manager.shutdown();
    await model.dispose();
  }

  // (3) cache hits per second, against embedding the same texts on the backend.
  {
    progress('(3) embedding cache');
    await using manager = await ModelManager.create({ gpuCount: 0, defaultKeepAlive: -1 });
    const texts = sentences(256, 99);
    const computeMs = await time(() => manager.task({ taskData: texts, taskType: 'embedding', modelName: onnxEmbedding }).then(ok));
    let hits = 0;
    const hitMs = await time(async () => {
      for (let round = 0; round < 5; round++) {
        for (const t of texts) {
          ok(await manager.task({ taskData: [t], taskType: 'embedding', modelName: onnxEmbedding }));
          hits += 1;
        }
      }
    });
    const bulkMs = await time(async () => {
      for (let round = 0; round < 5; round++) ok(await manager.task({ taskData: texts, taskType: 'embedding', modelName: onnxEmbedding }));
    });
    row('embedding cache, ONNX', `${((texts.length / computeMs) * 1000).toFixed(0)} texts/s computed`, `${((hits / hitMs) * 1000).toFixed(0)} hits/s (1-text requests), ${(((5 * texts.length) / bulkMs) * 1000).toFixed(0)} hits/s (${texts.length}-text requests)`, `${((hits / hitMs) / (texts.length / computeMs)).toFixed(0)}x`, 'n/a');
  }

  // (4) cold load: task({taskData: null}) on a fresh manager vs the backend's own load().
  for (const [label, backend, path, taskType] of [['ONNX embedding', 'transformers', onnxEmbedding, 'embedding'], ['GGUF llama', 'llama-cpp', ggufLlama, 'text_generation']] as const) {
    progress(`(4) cold load, ${label}`);
    // Page cache, backend engine and the manager's first estimate (code loaded once per process) warmed for both sides.
    const warm = await load(backend, path, taskType);
    await warm.dispose();
    const warmManager = await ModelManager.create({ gpuCount: 0 });
    ok(await warmManager.task({ taskData: null, taskType, modelName: path }));
    await warmManager.shutdown();
    const direct: number[] = [];
    const viaTask: number[] = [];
    const directLoad = async () => {
      let loaded: LoadedModel | undefined;
      direct.push(await time(async () => (loaded = await load(backend, path, taskType))));
      await loaded?.dispose();
    };
    const taskLoad = async () => {
      const manager = await ModelManager.create({ gpuCount: 0 });
      viaTask.push(await time(async () => ok(await manager.task({ taskData: null, taskType, modelName: path }))));
      await manager.shutdown();
    };
    for (let i = 0; i < 6; i++) {
      if (i % 2 === 0) await directLoad().then(taskLoad);
      else await taskLoad().then(directLoad);
    }
    const [a, b] = [median(direct), median(viaTask)];
    row(`cold load, ${label}`, `${a.toFixed(0)} ms backend.load()`, `${b.toFixed(0)} ms task(null)`, `${((b / a - 1) * 100).toFixed(1)}%`, 'n/a');
  }
}

const device = parseDevice(args.device);
const size = args.size as TestModelSize;
process.stdout.write(`Node ${process.version}, ${cpus().length} CPU cores, device ${device}; ${size} models in ${MODELS_DIR}\n\n`);
if (device === 'cpu') await cpuBench(size);
else await gpuBench({ device, size, tokens: Number(args.tokens), rounds: Number(args.rounds) });
