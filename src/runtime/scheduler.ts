/**
 * The scheduler: which models are loaded, for whom, and for how long (Ollama's scheduler, with
 * seed 001's reference counts).
 *
 * - a model loads on first use, once: concurrent first requests wait on the same load;
 * - getModel() handles and running requests hold it; the keep-alive timer starts when the last
 *   goes (0 frees at once, -1 never), and its expiry frees the model;
 * - a load's backend is picked first, then its device from the GPUs that backend can use;
 * - before a load its cost is estimated; idle models (least recently used first) are evicted to
 *   fit the memory budget and the loaded-model limit, and on each GPU it goes to, that GPU's
 *   budget (idle models on that GPU go first), else OUT_OF_MEMORY;
 * - built-in backends on a GPU run in GPU worker processes (gpu/); a worker that ends frees the
 *   models it held, and the next request loads them again on a new worker;
 * - each model has a bounded queue (QUEUE_FULL past `maxQueue` waiting requests);
 * - a freed model is forgotten at once (the next request loads it afresh, with its own config)
 *   and disposed once the requests inside it are done.
 */
import { isModelManagerError, ModelManagerError } from '../errors.js';
import type { Device, TaskType } from './backends/backend.js';
import type { BackendRegistry } from './backend-registry.js';
import type { ConfiguredModel } from './configured-models.js';
import { parseDevice, type DeviceRequest } from './devices.js';
import type { GpuDevices } from './gpu/gpu-devices.js';
import { GpuLoads } from './gpu/gpu-loads.js';
import type { GpuWorker } from './gpu/gpu-worker.js';
import { placeLoad } from './gpu/place-load.js';
import { parseKeepAlive } from './keep-alive.js';
import { loadInstances } from './load-instances.js';
import type { MeasurementRecorder } from './measurements.js';
import { chooseEvictions, estimateNeed } from './memory-budget.js';
import { ModelSlot } from './model-slot.js';
import type { ResolvedModel } from './resolve-model.js';
import { WorkerPool, type BatchingOptions } from './worker-pool.js';

/** Most instances one model may have. */
export const MAX_WORKERS = 64;
/** Names whose resolution is remembered at once, at most. */
const MAX_REMEMBERED_NAMES = 1024;

export interface AcquireOptions {
  numWorkers?: unknown;
  device?: unknown;
  keepAlive?: unknown;
  /** The configured model the name stands for: loaded apart from other names of the same model, with its own batch size. */
  configured?: ConfiguredModel;
}

export interface SchedulerOptions {
  backends: BackendRegistry;
  measurements: MeasurementRecorder;
  resolve(name: string): Promise<ResolvedModel>;
  batching: BatchingOptions;
  memoryBudgetBytes: number;
  maxLoadedModels: number;
  maxQueue: number;
  defaultKeepAliveMs: number;
  /** The device of loads that name none, or `auto`. */
  devicePreference: DeviceRequest;
  /** The GPUs, their worker processes and budgets. */
  gpus: GpuDevices;
  onWarning(message: string): void;
  /** Aborted on shutdown: stops loads under way. */
  signal: AbortSignal;
}

export class Scheduler {
  readonly counters = { loads: 0, loadFailures: 0, evictions: 0, expired: 0, released: 0, workersLost: 0 };
  readonly #options: SchedulerOptions;
  readonly #slots = new Map<string, ModelSlot>();
  /** Freed slots whose running requests have not ended yet: still listed by ps, still holding memory. */
  readonly #unloading = new Set<ModelSlot>();
  /** Names already resolved, while a slot of theirs lives (saves the file system walk per request). */
  readonly #resolved = new Map<string, ResolvedModel>();
  readonly #gpuLoads: GpuLoads;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#gpuLoads = new GpuLoads({ gpus: options.gpus, slots: () => this.#slots.values(), evict: (victims) => this.#evict(victims) });
  }

  slots(): ModelSlot[] {
    return [...this.#slots.values()];
  }

  /** Freed slots that requests still run in. */
  unloadingSlots(): ModelSlot[] {
    return [...this.#unloading];
  }

  /** Slots asked for by `name`, or whose registry id / path is `name`. */
  slotsNamed(name: string): ModelSlot[] {
    const key = this.#resolved.get(name)?.key;
    return this.slots().filter((s) => s.name === name || s.location.key === name || s.location.key === key);
  }

  /** Where `name` lives; remembered while a slot of it lives. */
  async locate(name: string): Promise<ResolvedModel> {
    const known = this.#resolved.get(name);
    if (known) return known;
    const location = await this.#options.resolve(name);
    // Remembered until the next model is freed, so cache-only requests skip the walk too.
    if (this.#resolved.size < MAX_REMEMBERED_NAMES) this.#resolved.set(name, location);
    return location;
  }

  /** Finds or starts the model's slot and counts the caller in; resolves once it is loaded. */
  async acquire(name: string, taskType: TaskType, options: AcquireOptions): Promise<ModelSlot> {
    if (this.#options.signal.aborted) throw new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down: retry on another instance');
    const keepAliveMs = options.keepAlive === undefined ? undefined : parseKeepAlive(options.keepAlive as number | string);
    const workers = options.numWorkers ?? 1;
    if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new ModelManagerError('INVALID_ARGUMENT', `numWorkers must be an integer from 1 to ${MAX_WORKERS}`, { details: { numWorkers: workers } });
    }
    const asked = options.device === undefined ? 'auto' : parseDevice(String(options.device));
    const device = asked === 'auto' ? this.#options.devicePreference : asked;
    const location = await this.locate(name);
    // No await from here to the map insert: two first requests must find the same slot.
    const key = `${location.key}\0${taskType}${options.configured ? `\0${options.configured.id}` : ''}`;
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = this.#createSlot(key, name, location, taskType, workers, device, keepAliveMs, options.configured?.batchSize);
    } else if (slot.awaitingLoad + (slot.pool?.queued ?? 0) >= this.#options.maxQueue) {
      throw new ModelManagerError('QUEUE_FULL', `"${name}" already has ${this.#options.maxQueue} requests waiting: retry later or raise maxQueue`, {
        details: { modelName: name, maxQueue: this.#options.maxQueue },
      });
    } else if (keepAliveMs !== undefined) {
      slot.config.keepAliveMs = keepAliveMs;
    }
    this.#resolved.set(name, location);
    slot.inFlight += 1;
    slot.disarmTimer();
    slot.touch();
    if (slot.state === 'loading') {
      slot.awaitingLoad += 1;
      try {
        await slot.ready;
      } catch (error) {
        slot.inFlight -= 1;
        slot.notifyUnused();
        // Released while it loaded: the request was not, so it goes to a fresh load.
        if (isModelManagerError(error) && error.details.releasedWhileLoading === true && !this.#options.signal.aborted) {
          return this.acquire(name, taskType, options);
        }
        throw error;
      } finally {
        slot.awaitingLoad -= 1;
      }
    }
    return slot;
  }

  #createSlot(key: string, name: string, location: ResolvedModel, taskType: TaskType, workers: number, requested: DeviceRequest, keepAliveMs: number | undefined, batchSize: number | undefined): ModelSlot {
    // The device is placed once the backend is known (#load); until then the slot says what was asked (auto: cpu).
    const config = { taskType, requestedDevice: requested, device: requested === 'auto' ? 'cpu' as const : requested, workers, keepAliveMs: keepAliveMs ?? this.#options.defaultKeepAliveMs, batchSize };
    const slot = new ModelSlot(key, name, location, config, 0);
    this.#slots.set(key, slot);
    slot.ready = this.#load(slot);
    // Waiters get the error through `ready`; this handler only keeps it from being unhandled.
    slot.ready.catch(() => undefined);
    return slot;
  }

  async #load(slot: ModelSlot): Promise<void> {
    try {
      const backend = await this.#options.backends.pick(slot.location, slot.config.taskType);
      slot.backend = backend;
      const placement = await placeLoad({
        requested: slot.config.requestedDevice,
        workers: slot.config.workers,
        backend,
        gpus: this.#options.gpus,
        freeOn: (device) => this.#gpuLoads.freeOn(device),
      });
      slot.config.device = placement.device;
      slot.config.workers = placement.workers;
      if (placement.warning) this.#warn(slot, placement.warning);
      const need = await estimateNeed(backend, slot.location, placement.device);
      slot.estimatedBytes = (need.ramBytes + need.vramBytes) * placement.workers;
      await this.#makeRoom(slot, need.ramBytes * placement.workers);
      const gpuWorkers = await this.#gpuLoads.startWorkers(slot, placement, need.vramBytes);
      this.counters.loads += 1;
      const { path, model, format } = slot.location;
      const loaded = await loadInstances(
        placement.workers,
        (i) => placement.hosted ? this.#gpuLoads.loadOn(slot, gpuWorkers[i]!) : backend.load({ path, ...(model ? { model } : {}), taskType: slot.config.taskType, device: placement.device, signal: this.#options.signal }),
        { backend: backend.name, path, format },
        this.#options.signal,
      );
      if (slot.state === 'closed') {
        await Promise.allSettled(loaded.instances.map((m) => m.dispose()));
        throw new ModelManagerError('MODEL_LOAD_FAILED', `"${slot.name}" was released while it loaded: retry the request`, {
          details: { modelName: slot.name, releasedWhileLoading: true },
        });
      }
      if (loaded.reportedBytes !== undefined && loaded.reportedBytes > slot.sizeBytes) {
        // More than estimated (e.g. contexts the backend added): the budget holds all the same.
        await this.#makeRoom(slot, loaded.reportedBytes).catch(async (error: unknown) => {
          await Promise.allSettled(loaded.instances.map((m) => m.dispose()));
          throw error;
        });
      }
      for (const instance of loaded.instances) {
        if (instance.device !== 'cpu' && instance.vramBytes !== undefined) slot.vram.set(instance.device, instance.vramBytes);
      }
      const { batchSize } = slot.config;
      slot.pool = new WorkerPool(loaded.instances, batchSize === undefined ? this.#options.batching : { ...this.#options.batching, maxBatchSize: batchSize });
      // The backend knows where the instance really landed (e.g. a CPU-only backend, or a GPU that failed its check).
      const landed = loaded.instances[0]?.device ?? slot.config.device;
      if (landed === 'cpu' && slot.config.device !== 'cpu') {
        const why = loaded.instances[0]?.warning;
        this.#warn(slot, `${backend.name} runs it on cpu, not ${slot.config.device}${why ? `: ${why}` : ''}`);
        for (const device of slot.vram.keys()) slot.vram.delete(device);
      }
      slot.config.device = landed === 'cpu' ? 'cpu' : slot.config.device;
      slot.gpuKind = landed === 'cpu' ? undefined : loaded.instances[0]?.gpuKind;
      slot.sizeBytes = loaded.reportedBytes ?? slot.sizeBytes;
      slot.loadTimeMs = loaded.loadTimeMs;
      slot.memoryBytes = loaded.reportedBytes ?? loaded.rssDeltaBytes;
      slot.loadedAt = new Date();
      slot.state = 'ready';
      await this.#options.measurements.recordLoad(slot);
    } catch (error) {
      this.counters.loadFailures += 1;
      this.#forget(slot);
      if (this.#options.signal.aborted && !isModelManagerError(error, 'SHUTTING_DOWN')) {
        throw new ModelManagerError('SHUTTING_DOWN', `the model manager shut down while "${slot.name}" loaded`, { cause: error });
      }
      throw error;
    }
  }

  #warn(slot: ModelSlot, warning: string): void {
    slot.warnings.push(warning);
    this.#options.onWarning(`${slot.name}: ${warning}`);
  }

  /** A GPU worker ended unasked: the models on it are freed, their requests already answered WORKER_LOST. */
  workerLost(worker: GpuWorker, error: ModelManagerError): void {
    this.counters.workersLost += 1;
    for (const slot of this.#gpuLoads.slotsIn(worker)) {
      this.#warn(slot, error.message);
      void this.free(slot);
    }
  }

  /** Reserves `bytes` for `slot`, evicting idle models (least recently used first) when needed. @throws OUT_OF_MEMORY */
  async #makeRoom(slot: ModelSlot, bytes: number): Promise<void> {
    const others = [...this.#slots.values()].filter((s) => s !== slot);
    const victims = chooseEvictions(others, slot.name, bytes, { budgetBytes: this.#options.memoryBudgetBytes, maxLoadedModels: this.#options.maxLoadedModels });
    // Reserve and forget synchronously, so a concurrent load sees the budget as it will be.
    slot.sizeBytes = bytes;
    await this.#evict(victims);
  }

  /** Forgets the victims at once (before any await), then frees them. */
  #evict(victims: ModelSlot[]): Promise<void> {
    for (const victim of victims) {
      this.counters.evictions += 1;
      this.#forget(victim);
    }
    return Promise.all(victims.map((v) => this.free(v))).then(() => undefined);
  }

  /** Runs one piece of work on a slot held by a handle, keeping it counted as in use meanwhile. */
  async use<T>(slot: ModelSlot, work: () => Promise<T>): Promise<T> {
    if (slot.state !== 'ready') throw new ModelManagerError('INVALID_ARGUMENT', `"${slot.name}" was released: call getModel() again`);
    slot.inFlight += 1;
    slot.touch();
    try {
      return await work();
    } finally {
      this.leave(slot);
    }
  }

  leave(slot: ModelSlot): void {
    slot.inFlight = Math.max(0, slot.inFlight - 1);
    slot.touch();
    this.afterUse(slot);
  }

  /** Starts the keep-alive countdown once nothing holds the model. */
  afterUse(slot: ModelSlot): void {
    if (slot.inFlight === 0) slot.notifyUnused();
    if (!slot.idle || this.#slots.get(slot.key) !== slot) return;
    if (slot.config.keepAliveMs === 0) void this.free(slot);
    else slot.armTimer(() => {
      if (!slot.idle) return;
      this.counters.expired += 1;
      void this.free(slot);
    });
  }

  /** Takes a slot out of the books so new requests start a fresh one. */
  #forget(slot: ModelSlot): void {
    if (this.#slots.get(slot.key) === slot) this.#slots.delete(slot.key);
    const stillUsed = new Set([...this.#slots.values()].map((s) => s.location.key));
    for (const [name, location] of this.#resolved) if (!stillUsed.has(location.key)) this.#resolved.delete(name);
  }

  /** Frees a slot: forgotten at once, disposed once the requests inside it are done. */
  async free(slot: ModelSlot): Promise<void> {
    this.#forget(slot);
    slot.disarmTimer();
    if (slot.state === 'closed') return slot.closed;
    const wasLoading = slot.state === 'loading';
    slot.state = 'closed';
    if (!wasLoading && slot.inFlight > 0) this.#unloading.add(slot);
    slot.closed = (async () => {
      if (wasLoading) await slot.ready?.catch(() => undefined);
      await slot.unused();
      await Promise.allSettled(slot.pool?.instances.map((m) => m.dispose()) ?? []);
      this.#unloading.delete(slot);
      if (await this.#gpuLoads.measureRelease(slot)) this.#options.measurements.recordRelease(slot);
    })();
    return slot.closed;
  }

  /**
   * releaseModel(): frees the model now unless other getModel() references are held (then one
   * is dropped), or regardless with `force`. @returns true when something was freed.
   */
  async release(name: string, force: boolean): Promise<boolean> {
    let freed = false;
    for (const slot of this.slotsNamed(name)) {
      if (!force && slot.refs > 1) {
        slot.refs -= 1;
        continue;
      }
      slot.refs = 0;
      this.counters.released += 1;
      await this.free(slot);
      freed = true;
    }
    return freed;
  }

  /** Shutdown: fails what waits, frees everything once the running requests end, then ends the GPU workers. */
  async freeAll(reason: ModelManagerError): Promise<void> {
    for (const slot of this.#slots.values()) slot.pool?.rejectQueued(reason);
    await Promise.allSettled(this.slots().map((slot) => this.free(slot)));
    await this.#options.gpus.stopAll();
  }

  /** Reserved GPU memory per device, for the status. */
  gpuReserved(device: Device): number {
    return this.#gpuLoads.reservedOn(device);
  }
}
