/**
 * Public types of the runtime: what task() takes and returns, and what status calls report.
 */
import type { LlamaGpuSetting } from '../config.js';
import type { PullOptions } from '../hub/pull/pull-model.js';
import type { Registry } from '../registry/registry.js';
import type { LoadedSettings } from '../settings/load-settings.js';
import type { ConfiguredModelOptions } from '../settings/schema.js';
import type { Device, TaskType } from './backends/backend.js';
import type { DeviceRequest } from './devices.js';
import type { EmbeddingCacheOptions, EmbeddingCacheStats } from './embedding-cache.js';
import type { GpuBackendStatus } from './gpu/gpu-devices.js';
import type { KeepAlive } from './keep-alive.js';
import type { VramMeasure } from './model-slot.js';
import type { BatchingOptions } from './worker-pool.js';

export interface ModelManagerOptions {
  /** Registry that names models (`localPath`) and receives what loads measure. Defaults to none. */
  registry?: Registry;
  /** Bytes all loaded models may take together. Defaults to 80% of the machine's memory. */
  memoryBudgetBytes?: number;
  /** Most models loaded at once (each task type of a model counts once). Defaults to 3. */
  maxLoadedModels?: number;
  /** Requests that may wait per model (at least 1) before new ones get QUEUE_FULL. Defaults to 512. */
  maxQueue?: number;
  /** Keep-alive of requests that name none. Defaults to 5 (minutes). */
  defaultKeepAlive?: KeepAlive;
  /** Embedding cache settings. Defaults to 10,000 entries for 1 hour, in memory only. */
  embeddingCache?: EmbeddingCacheOptions;
  /** Dynamic batching of embedding requests. Defaults to 16 texts, 0 ms. */
  batching?: BatchingOptions;
  /** Folders where a bare name is looked up as `<root>/<name>`. Defaults to `['./models']`. */
  modelRoots?: string[];
  /** Hugging Face hub cache. Defaults to `config().hf.hubCache`. */
  hubCache?: string;
  /** Pull a hub id (`org/name[:variant]`) found nowhere on disk before its first task; concurrent first requests share one pull. Defaults to `config().autoPull` (on, off when HF_HUB_OFFLINE is set). */
  autoPull?: boolean;
  /** How first-use pulls run (endpoint and token through `config`, progress through `onProgress`). Defaults to the process environment, quiet. */
  pull?: Omit<PullOptions, 'dryRun' | 'include' | 'exclude' | 'revision'>;
  /**
   * Most GPUs a backend may use; 0 keeps every load on the CPU without probing for GPUs. Defaults
   * to all the model's backend finds, asked on its first load that may use a GPU. A user's backend
   * without `gpus()` gets this many GPUs (none when unset).
   */
  gpuCount?: number;
  /** llama.cpp's GPU kind: auto, cuda, vulkan, metal or cpu. Defaults to `config().llamaGpu` (`MM_LLAMA_GPU`, else auto). */
  llamaGpu?: LlamaGpuSetting;
  /** Share of each GPU's memory that loaded models may take (seed 001's gpu_memory_fraction). Defaults to 0.9. */
  gpuMemoryFraction?: number;
  /** The device of loads whose request and configured model name none (or `auto`): seed 001's device_preference. Defaults to `auto`. */
  devicePreference?: DeviceRequest;
  /**
   * Configured models: names callers use wherever a model is named (task(), getModel(), CLI, HTTP),
   * each with the model to load and how to serve it. Merged over the settings' `models`, name by name.
   * Defaults to none.
   */
  models?: Record<string, ConfiguredModelOptions>;
  /**
   * Settings under these options (every option above that is not given comes from them): as
   * `loadSettings()` returns them, or false for none. Defaults to `loadSettings()`: the settings
   * file (`MM_SETTINGS`, else `$MM_HOME/settings.yaml`) and the `MM_<SETTING>` environment variables.
   */
  settings?: LoadedSettings | false;
  /** Where warnings go (e.g. a GPU asked for but missing). Defaults to `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/**
 * One call of the unified API. Fields beyond these are task parameters: an unknown one of a
 * built-in task type is refused (INVALID_ARGUMENT), a custom task type's backend gets them all.
 * The seed's spellings are accepted too (from JavaScript or JSON): `task_data`, `task_type`,
 * `model_name`, `num_workers`, `keep_alive`, `max_length`, `max_new_tokens`, `max_tokens`, `top_k`, `top_p`.
 */
export interface TaskRequest {
  /** Texts to embed (string[] or string), a prompt (string), `null` to only load the model, or what a custom task takes. */
  taskData: unknown;
  /** Required, except for a configured model: its own task type is the default. */
  taskType?: TaskType;
  /** A registry id, a Hugging Face id, a model path, or the name of a configured model. */
  modelName: string;
  /** Instances serving the model (on GPUs capped by the GPUs found). Applies when the model loads. Defaults to 1. */
  numWorkers?: number;
  /** Defaults to `auto` (a GPU when one is found, else CPU). Applies when the model loads. */
  device?: DeviceRequest;
  /** Minutes (or "30s", "5m", "1h") to stay loaded once idle; 0 frees right after; -1 keeps. Defaults to the manager's. */
  keepAlive?: KeepAlive;
  /** Called with each piece of text as a text_generation streams. */
  onToken?: (text: string) => void;
  /**
   * Cancels the task: waiting, it leaves the queue; generating, it stops at the next token.
   * The Result is then a failure with code CANCELLED. Defaults to none.
   */
  signal?: AbortSignal;
  /**
   * Task parameters. embedding: pooling, normalize, dimensions (shorter vectors, Matryoshka models only),
   * countTokens (fill `usage.tokens`).
   * text_generation: maxTokens (also maxLength, maxNewTokens; at most 32768), temperature, topK, topP, seed, stop.
   */
  [param: string]: unknown;
}

/** Where a request computed: absent when the embedding cache answered it all. */
export interface RanOn {
  device?: Device;
  /** The GPU kind (`cuda`, `vulkan`, `metal`); absent on the CPU. */
  gpuKind?: string;
}

export interface EmbeddingTaskOutput extends RanOn {
  embeddings: number[][];
  model: string;
  dimensions: number;
  /** How many of the vectors came from the embedding cache. */
  cached: number;
  /** `tokens`: what the texts are read as, cached ones too; only with `countTokens: true` and a backend that can count. */
  usage: { tokens?: number };
}

export interface GenerationTaskOutput extends RanOn {
  generatedText: string;
  model: string;
  /** Tokens generated, counted by the backend as it sampled them (not from the text). */
  tokens: number;
  /** Tokens of the prompt, as the model's tokenizer made them. */
  promptTokens: number;
  finishReason: 'stop' | 'length';
}

export interface PreloadOutput {
  preloaded: true;
  modelName: string;
  workers: number;
  device: Device;
  gpuKind?: string;
  keepAliveMinutes: number;
}

export type TaskOutput = EmbeddingTaskOutput | GenerationTaskOutput | PreloadOutput | unknown;

/** What each built-in task type returns; custom task types return what their backend does. */
export interface TaskOutputs {
  embedding: EmbeddingTaskOutput;
  text_generation: GenerationTaskOutput;
}

/** The data of a task's Result, by its task type and whether it only preloads. */
export type TaskOutputOf<R extends TaskRequest> = R['taskData'] extends null
  ? PreloadOutput
  : R['taskType'] extends keyof TaskOutputs
    ? TaskOutputs[R['taskType']]
    : unknown;

/** A task() request inside a loaded model: waiting for an instance, or running on one. */
export interface TaskInfo {
  taskType: TaskType;
  state: 'queued' | 'running';
  /** When it entered that state. */
  since: string;
  /** The most tokens the generation may produce. */
  maxTokens?: number;
}

/** One loaded model, as `ps` lists it. */
export interface LoadedModelInfo {
  /** `unloading`: released or evicted, and freed once the requests still running in it end. */
  state: 'loading' | 'ready' | 'unloading';
  /** The name it was asked for by. */
  name: string;
  /** Its identity: registry id, else absolute path. */
  model: string;
  taskType: TaskType;
  backend: string;
  /** `cpu`, `cuda:N` (the Nth GPU of the backend's kind), or `gpu` for instances on several GPUs. */
  device: Device;
  /** The GPU kind the instances compute on (`cuda`, `vulkan`, `metal`); absent on the CPU. */
  gpuKind?: string;
  workers: number;
  /** References held through getModel(), plus requests running or waiting. */
  refs: number;
  /** RAM and GPU memory together. */
  sizeBytes: number;
  /** The part on GPUs (0 on CPU). */
  sizeVram: number;
  loadedAt: string;
  lastUsedAt: string;
  /** When the keep-alive timer will free it; null while in use or when kept until released. */
  expiresAt: string | null;
  /** Requests waiting for the load or for an instance. */
  queue: number;
  /** Instances working right now (task() requests and getModel() handles). */
  running: number;
  /** The task() requests inside it, queued or running. */
  tasks: TaskInfo[];
}

export interface ModelStatus extends LoadedModelInfo {
  path: string;
  /** The cost estimated before the load (backend estimate, registry memoryEstimate, or file sizes), for all workers. */
  estimatedBytes: number;
  /** How long the load took (0 while loading). */
  loadTimeMs: number;
  /** Memory the load measured: what the backend reported, else the growth of the process RSS. */
  measuredBytes: number;
  keepAliveMinutes: number;
  requests: number;
  backendCalls: number;
  warnings: string[];
  /** Each GPU's used memory before and after the load (when the backend can tell). */
  vram: VramMeasure[];
}

export interface ManagerStatus {
  initialized: boolean;
  shuttingDown: boolean;
  loaded: number;
  loading: number;
  queueDepth: number;
  memory: { budgetBytes: number; usedBytes: number };
  maxLoadedModels: number;
  maxQueue: number;
  /** GPUs found (the most any backend found); null until the first load that could use one. */
  gpuCount: number | null;
  /** What each backend asked so far found: GPU kind, devices with their memory and worker, and why each kind tried failed. */
  gpus: GpuBackendStatus[];
  backends: string[];
  cache: EmbeddingCacheStats;
  /** Since the manager was created: backend loads started, slots whose load failed (any reason), idle models evicted for room, freed by keep-alive, freed by releaseModel, GPU worker processes that ended unasked. */
  counters: { loads: number; loadFailures: number; evictions: number; expired: number; released: number; workersLost: number };
  models: ModelStatus[];
}

export type { EmbeddingCacheStats, GpuBackendStatus, VramMeasure };
