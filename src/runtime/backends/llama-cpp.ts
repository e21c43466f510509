/**
 * The `llama-cpp` backend: GGUF models through node-llama-cpp, embeddings from an embedding
 * context, text from `LlamaCompletion` (with streaming).
 *
 * node-llama-cpp's prebuilt binaries are used as installed: `build: 'never'` and
 * `skipDownload: true` make a missing binary an error instead of a compile or a download at
 * runtime. One `Llama` per binary (CPU only, or a GPU kind) is shared by the process. A GPU kind
 * is used in a process only once a child process has computed on it (llama-gpu-check.ts), unless
 * the caller says the process is itself such a child (`checkGpu: false`, the GPU workers).
 */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { config, type LlamaGpuSetting } from '../../config.js';
import { isModelManagerError, ModelManagerError } from '../../errors.js';
import type { BackendGpus, Device, InferenceBackend, LoadedModel, LoadOptions, MemoryNeed, ModelLocation, TaskType, WorkerSpec } from './backend.js';
import { describeAttempts } from '../devices.js';
import { importBackendPackage } from './import-package.js';
import { LlamaCppEmbedder, LlamaCppGenerator } from './llama-cpp-instances.js';
import { checkLlamaGpus, type LlamaGpuKind } from './llama-gpu-check.js';
import { findGgufFile } from './model-files.js';

export { llamaCppGpu } from './llama-gpu-check.js';

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
  /** Which GPU binary GPU loads use: auto, cuda, vulkan, metal or cpu. Defaults to `config().llamaGpu` (`MM_LLAMA_GPU`, else auto). */
  gpu?: LlamaGpuSetting;
  /**
   * Check a GPU kind in a child process before this process uses it. Defaults to true; a GPU
   * worker, itself the isolated process, sets false and uses its one kind as given.
   */
  checkGpu?: boolean;
}

let engine: Promise<NodeLlamaCpp> | undefined;
/** One `Llama` per binary (CPU only, or a GPU kind), shared by the process. */
const llamas = new Map<LlamaGpuKind | false, Promise<Llama>>();
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

/** The process's `Llama` of one binary, created on first use. */
function llamaOf(gpu: LlamaGpuKind | false): Promise<Llama> {
  let llama = llamas.get(gpu);
  if (!llama) {
    llama = loadEngine().then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        gpu, build: 'never', skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error,
        logger: (level, message) => {
          if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) keepError(message);
        },
      }),
    );
    llama.catch(() => llamas.delete(gpu));
    llamas.set(gpu, llama);
  }
  return llama;
}

/** Why no GPU kind is used, from the check's attempts ("cuda: ...; vulkan: ..."). */
function whyNoGpu(gpus: BackendGpus): string {
  return gpus.attempts.length === 0 ? 'no llama.cpp GPU binary is installed, or MM_LLAMA_GPU is cpu' : describeAttempts(gpus.attempts);
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
  readonly #gpu: LlamaGpuSetting;
  readonly #checkGpu: boolean;
  /** Estimates by device kind, file size, mtime and path (oldest dropped first). */
  readonly #estimates = new Map<string, MemoryNeed>();

  constructor({ threads, embeddingContexts, maxContextSize = 4096, gpu = config().llamaGpu, checkGpu = true }: LlamaCppBackendOptions = {}) {
    this.#threads = threads;
    this.#embeddingContexts = embeddingContexts;
    this.#maxContextSize = maxContextSize;
    this.#gpu = gpu;
    this.#checkGpu = checkGpu;
  }

  async supports(location: ModelLocation): Promise<boolean> {
    if (location.format !== undefined && location.format !== 'gguf') return false;
    return (await findGgufFile(location.path)) !== undefined;
  }

  /** A GPU worker recreates this backend with the same options; the worker's GPU kind is given to it apart. */
  workerSpec(): WorkerSpec {
    const options: LlamaCppBackendOptions = { maxContextSize: this.#maxContextSize };
    if (this.#threads !== undefined) options.threads = this.#threads;
    if (this.#embeddingContexts !== undefined) options.embeddingContexts = this.#embeddingContexts;
    return { backend: BACKEND, options: { ...options } };
  }

  /** The GPU kind that computes here and its devices (checked in child processes, once per process). */
  gpus(): Promise<BackendGpus> {
    if (!this.#checkGpu) {
      const kind = this.#gpu === 'auto' || this.#gpu === 'cpu' ? false : this.#gpu;
      return Promise.resolve({ kind, devices: [], attempts: [] });
    }
    return checkLlamaGpus(this.#gpu);
  }

  /** The `Llama` GPU loads use in this process: the checked kind, else the CPU binary. */
  async #gpuLlama(): Promise<{ llama: Llama; failure?: string }> {
    const gpus = await this.gpus();
    const kind = gpus.kind as LlamaGpuKind | false;
    return { llama: await llamaOf(kind), ...(kind === false && this.#checkGpu ? { failure: whyNoGpu(gpus) } : {}) };
  }

  /** Names and memory of the GPU devices this process's GPU binary sees (a GPU worker reports them). */
  async gpuDevicesInProcess(): Promise<{ names: string[]; vram: { totalBytes: number; usedBytes: number } }> {
    const { llama } = await this.#gpuLlama();
    if (llama.gpu === false) return { names: [], vram: { totalBytes: 0, usedBytes: 0 } };
    const { total, used } = await llama.getVramState();
    return { names: await llama.getGpuDeviceNames(), vram: { totalBytes: total, usedBytes: used } };
  }

  /**
   * Weights plus one context, from the GGUF header alone (node-llama-cpp's own estimate), split
   * between RAM and GPU memory as a load with every layer on the GPU splits them. The figures
   * come from the file, not the device, so the CPU binary computes them: the GPU one is never
   * loaded into a process that has not checked it.
   */
  async estimateMemory(location: ModelLocation, device: Device = 'cpu'): Promise<MemoryNeed | undefined> {
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
      const insights = await GgufInsights.from(info, await llamaOf(false));
      const contextSize = Math.min(insights.trainContextSize ?? this.#maxContextSize, this.#maxContextSize);
      const gpuLayers = device === 'cpu' ? 0 : insights.totalLayers;
      const model = insights.estimateModelResourceRequirements({ gpuLayers });
      const context = insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: gpuLayers });
      const need = device === 'cpu'
        ? { ramBytes: model.cpuRam + model.gpuVram + context.cpuRam + context.gpuVram, vramBytes: 0 }
        : { ramBytes: model.cpuRam + context.cpuRam, vramBytes: model.gpuVram + context.gpuVram };
      if (this.#estimates.size >= MAX_REMEMBERED_ESTIMATES) this.#estimates.delete(this.#estimates.keys().next().value!);
      this.#estimates.set(key, need);
      return need;
    } catch {
      return undefined; // an unreadable header fails properly at load time, with the reason
    }
  }

  /** RAM and GPU memory together (see estimateMemory). */
  async estimateBytes(location: ModelLocation, device: Device = 'cpu'): Promise<number | undefined> {
    const need = await this.estimateMemory(location, device);
    return need && need.ramBytes + need.vramBytes;
  }

  async load({ path, taskType, device, signal }: LoadOptions): Promise<LoadedModel> {
    if (taskType !== 'embedding' && taskType !== 'text_generation') {
      throw new ModelManagerError('UNSUPPORTED_TASK', `llama-cpp runs embedding and text_generation, not "${taskType}"`, { details: { taskType, backend: BACKEND } });
    }
    const file = await findGgufFile(path);
    if (!file) throw loadFailed(path, 'no .gguf file is there');
    const { llama, failure } = device === 'cpu' ? { llama: await llamaOf(false), failure: undefined } : await this.#gpuLlama();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: file, gpuLayers: llama.gpu === false ? 0 : 'auto', ...(signal ? { loadSignal: signal } : {}) });
    } catch (error) {
      throw loadFailed(file, await withLlamaLog(error), error);
    }
    const threads = this.#threads ?? ((await stat(file)).size < SINGLE_THREAD_BELOW_BYTES ? 1 : Math.max(1, llama.cpuMathCores - 1));
    const onGpu = llama.gpu !== false && model.gpuLayers > 0;
    const actualDevice: Device = onGpu ? device : 'cpu';
    const warning = device !== 'cpu' && !onGpu ? `running on the CPU: ${failure ?? 'llama.cpp put no layer on the GPU'}` : undefined;
    const common = { threads, device: actualDevice, gpuKind: onGpu ? llama.gpu || undefined : undefined, warning, maxContextSize: this.#maxContextSize, ...(signal ? { signal } : {}) };
    try {
      const contexts = this.#embeddingContexts ?? (onGpu ? 1 : Math.max(1, Math.min(MAX_EMBEDDING_CONTEXTS, Math.floor(llama.cpuMathCores / Math.max(1, threads)))));
      return taskType === 'embedding'
        ? await LlamaCppEmbedder.create(model, { ...common, contexts })
        : await LlamaCppGenerator.create(model, await loadEngine(), common);
    } catch (error) {
      await model.dispose();
      if (isModelManagerError(error)) throw error;
      throw loadFailed(file, `creating a context failed: ${await withLlamaLog(error)}`, error);
    }
  }
}
