/**
 * Public types of the runtime: what task() takes and returns, and what status calls report.
 */
import type { PullOptions } from '../hub/pull/pull-model.js';
import type { Registry } from '../registry/registry.js';
import type { Device, TaskType } from './backends/backend.js';
import type { DeviceRequest } from './devices.js';
import type { EmbeddingCacheOptions, EmbeddingCacheStats } from './embedding-cache.js';
import type { KeepAlive } from './keep-alive.js';
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
  /** GPUs to use. Defaults to those node-llama-cpp finds, detected on the first load that is not CPU-only. */
  gpuCount?: number;
  /** Where warnings go (e.g. a GPU asked for but missing). Defaults to `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/** One call of the unified API. Fields beyond these are task parameters. */
export interface TaskRequest {
  /** Texts to embed (string[] or string), a prompt (string), `null` to only load the model, or what a custom task takes. */
  taskData: unknown;
  taskType: TaskType;
  modelName: string;
  /** Instances serving the model (on GPUs capped by the GPUs found). Applies when the model loads. Defaults to 1. */
  numWorkers?: number;
  /** Defaults to `auto` (a GPU when one is found, else CPU). Applies when the model loads. */
  device?: DeviceRequest;
  /** Minutes (or "30s", "5m", "1h") to stay loaded once idle; 0 frees right after; -1 keeps. Defaults to the manager's. */
  keepAlive?: KeepAlive;
  /** Called with each piece of text as a text_generation streams. */
  onToken?: (text: string) => void;
  /** Task parameters: maxTokens/maxLength, temperature, topK, topP, seed, stop, pooling, normalize, ... */
  [param: string]: unknown;
}

export interface EmbeddingTaskOutput {
  embeddings: number[][];
  model: string;
  dimensions: number;
  /** How many of the vectors came from the embedding cache. */
  cached: number;
  usage: { tokens?: number };
}

export interface GenerationTaskOutput {
  generatedText: string;
  model: string;
  tokens: number;
  finishReason: 'stop' | 'length';
}

export interface PreloadOutput {
  preloaded: true;
  modelName: string;
  workers: number;
  device: Device;
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

/** One loaded model, as `ps` lists it. */
export interface LoadedModelInfo {
  /** The name it was asked for by. */
  name: string;
  /** Its identity: registry id, else absolute path. */
  model: string;
  taskType: TaskType;
  backend: string;
  device: Device;
  workers: number;
  /** References held through getModel(), plus requests running or waiting. */
  refs: number;
  sizeBytes: number;
  /** Bytes on a GPU (0 on CPU). */
  sizeVram: number;
  loadedAt: string;
  lastUsedAt: string;
  /** When the keep-alive timer will free it; null while in use or when kept until released. */
  expiresAt: string | null;
  /** Requests waiting for an instance. */
  queue: number;
}

export interface ModelStatus extends LoadedModelInfo {
  state: 'loading' | 'ready';
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
  /** GPUs found; null until the first load that could use one. */
  gpuCount: number | null;
  backends: string[];
  cache: EmbeddingCacheStats;
  /** Since the manager was created: backend loads started, slots whose load failed (any reason), idle models evicted for room, freed by keep-alive, freed by releaseModel. */
  counters: { loads: number; loadFailures: number; evictions: number; expired: number; released: number };
  models: ModelStatus[];
}

export type { EmbeddingCacheStats };
