/**
 * Loading the instances of one model and measuring what that cost: wall time, and memory as
 * the backend reports it or, failing that, as the growth of the process's resident set.
 */
import { isModelManagerError, ModelManagerError } from '../errors.js';
import type { InferenceBackend, LoadedModel } from './backends/backend.js';
import type { ResolvedModel } from './resolve-model.js';
import type { SlotConfig } from './model-slot.js';

export interface LoadedInstances {
  instances: LoadedModel[];
  loadTimeMs: number;
  /** Bytes the backend reported for all instances, when every instance reported. */
  reportedBytes: number | undefined;
  /** Growth of the process RSS across the load (other work in the process blurs it). */
  rssDeltaBytes: number;
}

/** Loads `config.workers` instances one after the other (parallel loads only fight over the same cores and memory). */
export async function loadInstances(
  backend: InferenceBackend,
  location: ResolvedModel,
  config: SlotConfig,
  signal: AbortSignal,
): Promise<LoadedInstances> {
  const instances: LoadedModel[] = [];
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();
  try {
    for (let i = 0; i < config.workers; i++) {
      if (signal.aborted) throw new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down; the load was stopped');
      instances.push(
        await backend.load({
          path: location.path,
          ...(location.model ? { model: location.model } : {}),
          taskType: config.taskType,
          device: config.device,
          signal,
        }),
      );
    }
  } catch (error) {
    await Promise.allSettled(instances.map((m) => m.dispose()));
    if (isModelManagerError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelManagerError(
      'MODEL_LOAD_FAILED',
      `${backend.name} could not load ${location.path}: ${reason}. Check that the files are complete (re-download or regenerate them)`,
      { cause: error, details: { path: location.path, backend: backend.name, format: location.format } },
    );
  }
  const loadTimeMs = performance.now() - started;
  const reported = instances.map((m) => m.memoryBytes);
  return {
    instances,
    loadTimeMs,
    reportedBytes: reported.every((b) => b !== undefined) ? reported.reduce((a, b) => a + b, 0) : undefined,
    rssDeltaBytes: Math.max(0, process.memoryUsage.rss() - rssBefore),
  };
}
