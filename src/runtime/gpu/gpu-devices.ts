/**
 * The GPUs of one manager: what each backend can use (asked only when a load may use a GPU),
 * one worker process per GPU and backend, and each device's memory as its worker last reported
 * it, against the budget (`gpuMemoryFraction` of the device).
 */
import type { ModelManagerError } from '../../errors.js';
import type { BackendGpus, Device, GpuAttempt, InferenceBackend, WorkerSpec } from '../backends/backend.js';
import { GpuWorker } from './gpu-worker.js';
import type { VramState } from './gpu-worker-protocol.js';

export interface GpuDevicesOptions {
  /** Most GPUs to use per backend; 0 never asks a backend for its GPUs. Undefined: all a backend finds. */
  gpuCount: number | undefined;
  /** Share of a device's memory that models may take (seed 001's gpu_memory_fraction). */
  gpuMemoryFraction: number;
  /** A worker process ended without being asked to. */
  onWorkerLost(worker: GpuWorker, error: ModelManagerError): void;
}

/** One GPU as `getStatus().gpus` shows it. */
export interface GpuDeviceStatus {
  device: Device;
  name: string;
  /** The worker process on it, once one was started. */
  worker: { pid: number | undefined; alive: boolean } | null;
  /** Device memory at the worker's last report, the budget, and what loaded models hold of it; null before a worker reported. */
  vram: { totalBytes: number; usedBytes: number; budgetBytes: number; reservedBytes: number } | null;
}

/** What one backend found: the GPU kind in use, its devices, and why each kind tried failed. */
export interface GpuBackendStatus {
  backend: string;
  kind: string | false;
  devices: GpuDeviceStatus[];
  attempts: GpuAttempt[];
}

export class GpuDevices {
  readonly gpuMemoryFraction: number;
  readonly #options: GpuDevicesOptions;
  readonly #found = new Map<InferenceBackend, Promise<BackendGpus>>();
  readonly #known = new Map<string, BackendGpus>();
  readonly #workers = new Map<string, Promise<GpuWorker>>();
  /** Workers that finished starting, for the status (which must not wait). */
  readonly #started = new Map<string, GpuWorker>();
  readonly #memory = new Map<Device, VramState>();

  constructor(options: GpuDevicesOptions) {
    this.#options = options;
    this.gpuMemoryFraction = options.gpuMemoryFraction;
  }

  /**
   * The GPUs `backend` can use, at most `gpuCount`. A backend that cannot tell (a custom one
   * without `gpus()`) is given `gpuCount` GPUs, none when that is unset.
   */
  gpusOf(backend: InferenceBackend): Promise<BackendGpus> {
    let found = this.#found.get(backend);
    if (!found) {
      const cap = this.#options.gpuCount;
      found = (async (): Promise<BackendGpus> => {
        if (cap === 0) return { kind: false, devices: [], attempts: [] };
        if (!backend.gpus) {
          const devices = Array.from({ length: cap ?? 0 }, (_, i) => `GPU ${i}`);
          return { kind: devices.length > 0 ? 'gpu' : false, devices, attempts: [] };
        }
        const gpus = await backend.gpus();
        return cap === undefined ? gpus : { ...gpus, devices: gpus.devices.slice(0, cap) };
      })();
      found.then((gpus) => this.#known.set(backend.name, gpus), () => this.#found.delete(backend));
      this.#found.set(backend, found);
    }
    return found;
  }

  /** The worker of GPU `index` for the backend `spec` recreates, started on first use and again after it ended. */
  worker(spec: WorkerSpec, kind: string, index: number, expectedName: string | undefined): Promise<GpuWorker> {
    const key = workerKey(spec.backend, kind, index, spec.options);
    const running = this.#workers.get(key);
    if (running) {
      return running.then((worker) => {
        if (worker.alive) return worker;
        if (this.#workers.get(key) === running) this.#workers.delete(key);
        return this.worker(spec, kind, index, expectedName);
      });
    }
    const starting = GpuWorker.start({
      spec, kind, index, ...(expectedName === undefined ? {} : { expectedName }),
      onExit: (worker, error) => this.#options.onWorkerLost(worker, error),
    });
    starting.then((worker) => this.#started.set(key, worker), () => {
      if (this.#workers.get(key) === starting) this.#workers.delete(key);
    });
    this.#workers.set(key, starting);
    return starting;
  }

  /** The device's memory now, as its worker reports it (kept for the status); null when the backend cannot tell. */
  async memoryOf(worker: GpuWorker): Promise<VramState | null> {
    const state = await worker.vram();
    if (state) this.#memory.set(worker.device, state);
    return state;
  }

  /** The budget of a device, once its worker reported the device's size. */
  budgetOn(device: Device): number | undefined {
    const memory = this.#memory.get(device);
    return memory && this.budgetOf(memory.totalBytes);
  }

  /** Bytes models may take on a device of `totalBytes`. */
  budgetOf(totalBytes: number): number {
    return Math.floor(totalBytes * this.gpuMemoryFraction);
  }

  /** What each backend asked so far found, with each device's memory and worker. */
  status(reservedOn: (device: Device) => number): GpuBackendStatus[] {
    return [...this.#known].map(([backend, gpus]) => ({
      backend,
      kind: gpus.kind,
      attempts: gpus.attempts,
      devices: gpus.devices.map((name, index): GpuDeviceStatus => {
        const device: Device = `cuda:${index}`;
        const memory = this.#memory.get(device);
        const worker = [...this.#started.values()].find((w) => w.backend === backend && w.kind === gpus.kind && w.device === device);
        return {
          device,
          name,
          worker: worker ? { pid: worker.pid, alive: worker.alive } : null,
          vram: memory ? { ...memory, budgetBytes: this.budgetOf(memory.totalBytes), reservedBytes: reservedOn(device) } : null,
        };
      }),
    }));
  }

  /** Ends every worker (shutdown). */
  async stopAll(): Promise<void> {
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    await Promise.allSettled(workers.map(async (w) => (await w).stop()));
  }
}

function workerKey(backend: string, kind: string, index: number, options: Record<string, unknown>): string {
  return `${backend}/${kind}/${index}/${JSON.stringify(options)}`;
}
