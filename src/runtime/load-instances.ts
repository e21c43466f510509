/**
 * Loading the instances of one model and measuring what that cost: wall time, and memory as
 * the backend reports it or, failing that, as the growth of the process's resident set.
 */
import { isModelManagerError, ModelManagerError } from '../errors.js';
import type { LoadedModel } from './backends/backend.js';

export interface LoadedInstances {
  instances: LoadedModel[];
  loadTimeMs: number;
  /** Bytes of RAM the backend reported for all instances, when every instance reported. */
  reportedBytes: number | undefined;
  /** Growth of the process RSS across the load (other work in the process blurs it). */
  rssDeltaBytes: number;
}

/** What a failed load names. */
export interface LoadTarget {
  backend: string;
  path: string;
  format?: string | undefined;
}

/**
 * Loads `count` instances one after the other (parallel loads only fight over the same cores
 * and memory); `loadOne(i)` loads the i-th, in this process or in a GPU worker.
 */
export async function loadInstances(
  count: number,
  loadOne: (index: number) => Promise<LoadedModel>,
  target: LoadTarget,
  signal: AbortSignal,
): Promise<LoadedInstances> {
  const instances: LoadedModel[] = [];
  const rssBefore = process.memoryUsage.rss();
  const started = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      if (signal.aborted) throw new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down; the load was stopped');
      instances.push(await loadOne(i));
    }
  } catch (error) {
    await Promise.allSettled(instances.map((m) => m.dispose()));
    if (isModelManagerError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelManagerError(
      'MODEL_LOAD_FAILED',
      `${target.backend} could not load ${target.path}: ${reason}. Check that the files are complete (re-download or regenerate them)`,
      { cause: error, details: { path: target.path, backend: target.backend, format: target.format } },
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
