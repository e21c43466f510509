/**
 * The `llama-cpp` backend: GGUF models through node-llama-cpp, embeddings from an embedding
 * context, text from `LlamaCompletion` (with streaming).
 *
 * node-llama-cpp's prebuilt binaries are used as installed: `build: 'never'` and
 * `skipDownload: true` make a missing binary an error instead of a compile or a download at
 * runtime. One `Llama` per kind (CPU only, or GPU when there is one) is shared by the process.
 */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { isModelManagerError, ModelManagerError } from '../../errors.js';
import type { Device, InferenceBackend, LoadedModel, LoadOptions, ModelLocation, TaskType } from './backend.js';
import { importBackendPackage } from './import-package.js';
import { LlamaCppEmbedder, LlamaCppGenerator } from './llama-cpp-instances.js';
import { checkLlamaGpu } from './llama-gpu-check.js';
import { findGgufFile } from './model-files.js';

export type NodeLlamaCpp = typeof import('node-llama-cpp');

const BACKEND = 'llama-cpp';
/** Below this file size, one thread beats several: hand-offs between threads cost more than the math. */
const SINGLE_THREAD_BELOW_BYTES = 64 * 1024 * 1024;
/** More contexts than this cost memory without adding much: a batch rarely holds more texts per core. */
const MAX_EMBEDDING_CONTEXTS = 4;
const MAX_REMEMBERED_ESTIMATES = 256;

export interface LlamaCppBackendOptions {
  /**
   * Threads per context. Defaults to 1 for models under 64 MB, else one less than llama.cpp's
   * math cores (at least 1): ggml's threads spin while they wait, so a thread without a free core
   * of its own slows every other one down (on 2 busy cores: 0.8 tokens/s with 2 threads, 21.7 with 1).
   */
  threads?: number;
  /**
   * Embedding contexts per instance, sharing its weights: llama.cpp embeds one sequence per
   * context, so a batch of texts is spread over them. Defaults to the math cores divided by
   * `threads` (at least 1, at most 4), which keeps every core busy on a batch without making
   * ggml's threads wait on each other.
   */
  embeddingContexts?: number;
  /** Most tokens of context of an instance. Defaults to the model's training context, capped at 4096. */
  maxContextSize?: number;
}

let engine: Promise<NodeLlamaCpp> | undefined;
const llamas = new Map<'cpu' | 'gpu', Promise<Llama>>();
/**
 * llama.cpp's recent error lines: a failed load says why only in its log, so the lines go into
 * the MODEL_LOAD_FAILED message instead of onto stderr.
 */
const recentErrors: string[] = [];
function keepError(message: string): void {
  recentErrors.push(message.trim());
  if (recentErrors.length > 4) recentErrors.shift();
}

function loadEngine(): Promise<NodeLlamaCpp> {
  engine ??= importBackendPackage<NodeLlamaCpp>('node-llama-cpp', BACKEND).catch((error: unknown) => {
    engine = undefined;
    throw error;
  });
  return engine;
}

function createLlama(gpu: Llama['gpu']): Promise<Llama> {
  return loadEngine().then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      gpu, build: 'never', skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error,
      logger: (level, message) => {
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) keepError(message);
      },
    }),
  );
}

/** Why the GPU llama.cpp found could not be used, when its check failed. */
let gpuFailure: string | undefined;

/**
 * The process's shared `Llama` for CPU-only or GPU work, created on first use. The GPU one is
 * only created after a child process has computed on that GPU (llama-gpu-check.ts); without a
 * working GPU, GPU work shares the CPU `Llama`.
 */
function sharedLlama(kind: 'cpu' | 'gpu'): Promise<Llama> {
  let llama = llamas.get(kind);
  if (!llama) {
    llama = kind === 'cpu'
      ? createLlama(false)
      : checkLlamaGpu().then((check) => {
        if (check.gpu !== false) return createLlama(check.gpu);
        gpuFailure = check.failure;
        return sharedLlama('cpu');
      });
    llama.catch(() => llamas.delete(kind));
    llamas.set(kind, llama);
  }
  return llama;
}

/**
 * The GPU llama.cpp uses in this process (`false` when none works, with the reason when one was
 * found but failed its check) and its device names, from the shared `Llama` the backend loads
 * with. Prefer this to `getLlamaGpuTypes()` once models are loaded: that probe replaces the
 * process's llama.cpp log handler.
 */
export async function llamaCppGpu(): Promise<{ gpu: Llama['gpu']; devices: string[]; failure?: string }> {
  const llama = await sharedLlama('gpu');
  return {
    gpu: llama.gpu,
    devices: llama.gpu === false ? [] : await llama.getGpuDeviceNames(),
    ...(gpuFailure === undefined ? {} : { failure: gpuFailure }),
  };
}

/** The error message plus what llama.cpp logged about it (its lines arrive through the event loop, possibly after the rejection). */
async function withLlamaLog(error: unknown): Promise<string> {
  await delay(50);
  const said = recentErrors.splice(0).filter((line) => !/failed to load model$/.test(line)).join('; ');
  return `${error instanceof Error ? error.message : String(error)}${said ? ` (llama.cpp: ${said})` : ''}`;
}

function loadFailed(path: string, reason: string, cause?: unknown): ModelManagerError {
  return new ModelManagerError('MODEL_LOAD_FAILED', `llama-cpp could not load ${path}: ${reason.replace(/\.+$/, '')}. Check that the file is a complete GGUF model (re-download or regenerate it)`, {
    ...(cause === undefined ? {} : { cause }),
    details: { path, backend: BACKEND },
  });
}

export class LlamaCppBackend implements InferenceBackend {
  readonly name = BACKEND;
  readonly tasks: readonly TaskType[] = ['embedding', 'text_generation'];
  readonly #threads: number | undefined;
  readonly #embeddingContexts: number | undefined;
  readonly #maxContextSize: number;
  /** Estimates by device kind, file size, mtime and path (oldest dropped first). */
  readonly #estimates = new Map<string, number>();

  constructor({ threads, embeddingContexts, maxContextSize = 4096 }: LlamaCppBackendOptions = {}) {
    this.#threads = threads;
    this.#embeddingContexts = embeddingContexts;
    this.#maxContextSize = maxContextSize;
  }

  async supports(location: ModelLocation): Promise<boolean> {
    if (location.format !== undefined && location.format !== 'gguf') return false;
    return (await findGgufFile(location.path)) !== undefined;
  }

  /**
   * Weights plus one context, from the GGUF header alone (node-llama-cpp's own estimate). It uses
   * the `Llama` the load will use: without one, GgufInsights starts a backend of its own (0.4 s).
   */
  async estimateBytes(location: ModelLocation, device: Device = 'cpu'): Promise<number | undefined> {
    const file = await findGgufFile(location.path);
    if (!file) return undefined;
    try {
      const { size, mtimeMs } = await stat(file);
      // Reading the header costs 20-40 ms: a model loaded again (after its keep-alive) reuses the figure of the same file.
      const key = `${device === 'cpu' ? 'cpu' : 'gpu'}\0${size}\0${mtimeMs}\0${file}`;
      const known = this.#estimates.get(key);
      if (known !== undefined) return known;
      const { readGgufFileInfo, GgufInsights } = await loadEngine();
      const info = await readGgufFileInfo(file, { logWarnings: false, sourceType: 'filesystem' });
      const insights = await GgufInsights.from(info, await sharedLlama(device === 'cpu' ? 'cpu' : 'gpu'));
      const contextSize = Math.min(insights.trainContextSize ?? this.#maxContextSize, this.#maxContextSize);
      const model = insights.estimateModelResourceRequirements({ gpuLayers: 0 });
      const context = insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: 0 });
      const bytes = model.cpuRam + model.gpuVram + context.cpuRam + context.gpuVram;
      if (this.#estimates.size >= MAX_REMEMBERED_ESTIMATES) this.#estimates.delete(this.#estimates.keys().next().value!);
      this.#estimates.set(key, bytes);
      return bytes;
    } catch {
      return undefined; // an unreadable header fails properly at load time, with the reason
    }
  }

  async load({ path, taskType, device, signal }: LoadOptions): Promise<LoadedModel> {
    if (taskType !== 'embedding' && taskType !== 'text_generation') {
      throw new ModelManagerError('UNSUPPORTED_TASK', `llama-cpp runs embedding and text_generation, not "${taskType}"`, { details: { taskType, backend: BACKEND } });
    }
    const file = await findGgufFile(path);
    if (!file) throw loadFailed(path, 'no .gguf file is there');
    const llama = await sharedLlama(device === 'cpu' ? 'cpu' : 'gpu');
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: file, gpuLayers: llama.gpu === false ? 0 : 'auto', ...(signal ? { loadSignal: signal } : {}) });
    } catch (error) {
      throw loadFailed(file, await withLlamaLog(error), error);
    }
    const threads = this.#threads ?? ((await stat(file)).size < SINGLE_THREAD_BELOW_BYTES ? 1 : Math.max(1, llama.cpuMathCores - 1));
    const actualDevice: Device = llama.gpu === false || model.gpuLayers === 0 ? 'cpu' : device;
    const warning = device !== 'cpu' && actualDevice === 'cpu' && gpuFailure ? `running on the CPU: ${gpuFailure}` : undefined;
    try {
      const contexts = this.#embeddingContexts ?? (actualDevice === 'cpu' ? Math.max(1, Math.min(MAX_EMBEDDING_CONTEXTS, Math.floor(llama.cpuMathCores / Math.max(1, threads)))) : 1);
      return taskType === 'embedding'
        ? await LlamaCppEmbedder.create(model, { threads, contexts, device: actualDevice, warning, maxContextSize: this.#maxContextSize, ...(signal ? { signal } : {}) })
        : await LlamaCppGenerator.create(model, await loadEngine(), {
          threads, device: actualDevice, warning, maxContextSize: this.#maxContextSize, ...(signal ? { signal } : {}),
        });
    } catch (error) {
      await model.dispose();
      if (isModelManagerError(error)) throw error;
      throw loadFailed(file, `creating a context failed: ${await withLlamaLog(error)}`, error);
    }
  }
}
