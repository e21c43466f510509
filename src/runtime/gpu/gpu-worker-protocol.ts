/**
 * Messages between the manager and a GPU worker process (gpu-worker.ts, gpu-worker-main.ts),
 * sent over Node's IPC channel with structured-clone serialization.
 */
import type { ModelMetadata } from '../../registry/schema.js';
import type { Device, EmbeddingParams, GenerationOutput, GenerationParams, TaskType } from '../backends/backend.js';

export interface VramState {
  totalBytes: number;
  usedBytes: number;
}

/** What a worker says once it has started its GPU binary. */
export interface WorkerHello {
  /** Names of the GPUs the worker sees (one when pinned). */
  devices: string[];
  /** The device memory, when the backend can tell (llama.cpp can, onnxruntime cannot). */
  vram: VramState | null;
}

/** What a worker answers to a load. */
export interface LoadedInfo {
  instance: number;
  /** `gpu` when the instance is on the worker's GPU, `cpu` when the backend fell back. */
  device: Device;
  gpuKind: string | undefined;
  warning: string | undefined;
  memoryBytes: number | undefined;
  vramBytes: number | undefined;
  dimensions: number | undefined;
  /** Whether the instance can count tokens (`countTokens` calls). */
  countsTokens: boolean;
}

export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** Generation parameters that cross the channel (the callback and the signal stay in the manager). */
export type WireGenerationParams = Omit<GenerationParams, 'onToken' | 'signal'>;

export type WorkerCall =
  | { op: 'load'; path: string; taskType: TaskType; model?: ModelMetadata }
  | { op: 'embed'; instance: number; texts: readonly string[]; params: EmbeddingParams }
  | { op: 'generate'; instance: number; prompt: string; params: WireGenerationParams; stream: boolean }
  | { op: 'countTokens'; instance: number; texts: readonly string[] }
  | { op: 'dispose'; instance: number }
  | { op: 'vram' };

/** What each call answers. */
export interface WorkerAnswers {
  load: LoadedInfo;
  embed: number[][];
  generate: GenerationOutput;
  countTokens: number[];
  dispose: null;
  vram: VramState | null;
}

export type ToWorker = { id: number; call: WorkerCall } | { abort: number };

export type FromWorker =
  | { hello: WorkerHello }
  | { helloError: WireError }
  | { id: number; value: unknown }
  | { id: number; error: WireError }
  | { id: number; token: string };
