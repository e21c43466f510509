/**
 * The runtime: ModelManager and what its callers and backend authors need.
 */
export { ModelManager, type GetModelOptions } from './model-manager.js';
export { ModelHandle, type ModelHandleInfo } from './model-handle.js';
export type { ConfiguredModel } from './configured-models.js';
export { ok, fail, resultError, type Result, type ResultError } from './result.js';
export { parseKeepAlive, keepAliveMinutes, type KeepAlive } from './keep-alive.js';
export { parseDevice, planDevice, describeAttempts, type DeviceRequest, type DevicePlan } from './devices.js';
export { detectGpuCount } from './backends/llama-gpu-check.js';
export { resolveModel, detectFormat, weightBytes, type ResolvedModel, type ResolveOptions } from './resolve-model.js';
export { EmbeddingCache, type EmbeddingCacheOptions, type EmbeddingCacheStats } from './embedding-cache.js';
export { WorkerPool, type BatchingOptions, type JobOptions } from './worker-pool.js';
export { MAX_GENERATION_TOKENS, parseTaskRequest, type TaskInput } from './task-input.js';
export { BUILTIN_BACKENDS, type BuiltinBackendName } from './backend-registry.js';
export type * from './backends/backend.js';
export type {
  ModelManagerOptions,
  TaskRequest,
  TaskOutput,
  TaskOutputs,
  TaskOutputOf,
  EmbeddingTaskOutput,
  GenerationTaskOutput,
  PreloadOutput,
  LoadedModelInfo,
  TaskInfo,
  ModelStatus,
  ManagerStatus,
  RanOn,
  GpuBackendStatus,
  VramMeasure,
} from './types.js';
export type { GpuDeviceStatus } from './gpu/gpu-devices.js';
