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
import type { DeviceRequest } from './devices.js';
import type { GpuDevices } from './gpu/gpu-devices.js';
import { GpuLoads } from './gpu/gpu-loads.js';
import type { GpuWorker } from './gpu/gpu-worker.js';
import { placeLoad } from './gpu/place-load.js';
import { loadInstances } from './load-instances.js';
import type { MeasurementRecorder } from './measurements.js';
import { chooseEvictions, estimateNeed } from './memory-budget.js';
import { ModelSlot } from './model-slot.js';
import type { ResolvedModel } from './resolve-model.js';
import type { LoadRequest } from './task-input.js';
import { WorkerPool, type BatchingOptions } from './worker-pool.js';

/** Names whose resolution is remembered at once, at most. */
const MAX_REMEMBERED_NAMES = 1024;

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

/** What a request to a manager that is shutting down gets. */
export function shuttingDown(): ModelManagerError {
  return new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down: retry on another instance');
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

  /**
   * Finds or starts the model's slot and counts the caller in (until `leave()`); resolves once it
   * is loaded. `load` is checked already (parseLoadRequest): its workers and device apply when the
   * model loads, its keep-alive whenever it is given. A configured model (`configured`) is loaded
   * apart from other names of the same model, with its own batch size.
   */
  async acquire(name: string, taskType: TaskType, load: LoadRequest, configured?: ConfiguredModel): Promise<ModelSlot> {
    if (this.#options.signal.aborted) throw shuttingDown();
    const device = load.device === 'auto' ? this.#options.devicePreference : load.device;
    const location = await this.locate(name);
    // No await from here to the map insert: two first requests must find the same slot.
    const key = `${location.key}\0${taskType}${configured ? `\0${configured.id}` : ''}`;
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = this.#createSlot(key, name, location, taskType, { ...load, device }, configured?.batchSize);
    } else if (slot.awaitingLoad + (slot.pool?.queued ?? 0) >= this.#options.maxQueue) {
      throw new ModelManagerError('QUEUE_FULL', `"${name}" already has ${this.#options.maxQueue} requests waiting: retry later or raise maxQueue`, {
        details: { modelName: name, maxQueue: this.#options.maxQueue },
      });
    } else if (load.keepAliveMs !== undefined) {
      slot.setKeepAlive(load.keepAliveMs);
    }
    this.#resolved.set(name, location);
    slot.enter();
    try {
      await slot.whenLoaded();
    } catch (error) {
      slot.leave();
      // Released while it loaded: the request was not, so it goes to a fresh load.
      if (isModelManagerError(error) && error.details.releasedWhileLoading === true && !this.#options.signal.aborted) {
        return this.acquire(name, taskType, load, configured);
      }
      throw error;
    }
    return slot;
  }

  #createSlot(key: string, name: string, location: ResolvedModel, taskType: TaskType, { workers, device, keepAliveMs }: LoadRequest, batchSize: number | undefined): ModelSlot {
    // The device is placed once the backend is known (#load); until then the slot says what was asked (auto: cpu).
    const config = { taskType, requestedDevice: device, device: device === 'auto' ? 'cpu' as const : device, workers, keepAliveMs: keepAliveMs ?? this.#options.defaultKeepAliveMs, batchSize };
    const slot = new ModelSlot(key, name, location, config, (s) => this.#load(s));
    this.#slots.set(key, slot);
    return slot;
  }

  async #load(slot: ModelSlot): Promise<void> {
    try {
      const backend = await this.#options.backends.pick(slot.location, slot.config.taskType);
      const placement = await placeLoad({
        requested: slot.config.requestedDevice,
        workers: slot.config.workers,
        backend,
        gpus: this.#options.gpus,
        freeOn: (device) => this.#gpuLoads.freeOn(device),
      });
      if (placement.warning) this.#warn(slot, placement.warning);
      const need = await estimateNeed(backend, slot.location, placement.device);
      slot.planned({ backend, device: placement.device, workers: placement.workers, estimatedBytes: (need.ramBytes + need.vramBytes) * placement.workers });
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
      try {
        if (slot.state === 'loading' && loaded.reportedBytes !== undefined && loaded.reportedBytes > slot.sizeBytes) {
          // More than estimated (e.g. contexts the backend added): the budget holds all the same.
          await this.#makeRoom(slot, loaded.reportedBytes);
        }
        if (slot.state !== 'loading') {
          throw new ModelManagerError('MODEL_LOAD_FAILED', `"${slot.name}" was released while it loaded: retry the request`, {
            details: { modelName: slot.name, releasedWhileLoading: true },
          });
        }
      } catch (error) {
        await Promise.allSettled(loaded.instances.map((m) => m.dispose()));
        throw error;
      }
      for (const instance of loaded.instances) {
        if (instance.device !== 'cpu' && instance.vramBytes !== undefined) slot.reserveVram(instance.device, instance.vramBytes);
      }
      // The backend knows where the instance really landed (e.g. a CPU-only backend, or a GPU that failed its check).
      const landed = loaded.instances[0]?.device ?? slot.config.device;
      if (landed === 'cpu' && slot.config.device !== 'cpu') {
        const why = loaded.instances[0]?.warning;
        this.#warn(slot, `${backend.name} runs it on cpu, not ${slot.config.device}${why ? `: ${why}` : ''}`);
      }
      const { batchSize } = slot.config;
      slot.finishLoad({
        pool: new WorkerPool(loaded.instances, batchSize === undefined ? this.#options.batching : { ...this.#options.batching, maxBatchSize: batchSize }),
        device: landed === 'cpu' ? 'cpu' : slot.config.device,
        gpuKind: landed === 'cpu' ? undefined : loaded.instances[0]?.gpuKind,
        sizeBytes: loaded.reportedBytes ?? slot.sizeBytes,
        loadTimeMs: loaded.loadTimeMs,
        memoryBytes: loaded.reportedBytes ?? loaded.rssDeltaBytes,
      });
    } catch (error) {
      this.counters.loadFailures += 1;
      this.#forget(slot);
      slot.failLoad();
      if (this.#options.signal.aborted && !isModelManagerError(error, 'SHUTTING_DOWN')) {
        throw new ModelManagerError('SHUTTING_DOWN', `the model manager shut down while "${slot.name}" loaded`, { cause: error });
      }
      throw error;
    }
    await this.#options.measurements.recordLoad(slot);
  }

  #warn(slot: ModelSlot, warning: string): void {
    slot.warn(warning);
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
    slot.reserve(bytes);
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
    slot.enter();
    try {
      return await work();
    } finally {
      this.leave(slot);
    }
  }

  /** A request that `acquire()` or `use()` counted in is done. */
  leave(slot: ModelSlot): void {
    slot.leave();
    this.afterUse(slot);
  }

  /** Starts the keep-alive countdown once nothing holds the model. */
  afterUse(slot: ModelSlot): void {
    if (!slot.idle || this.#slots.get(slot.key) !== slot) return;
    if (slot.keepAliveMs === 0) void this.free(slot);
    else slot.armKeepAlive(() => {
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
    if (slot.state !== 'loading' && slot.state !== 'ready') return slot.unload();
    const workers = this.#gpuLoads.workersOf(slot);
    const stillUsed = slot.state === 'ready' && slot.inFlight > 0;
    const closed = slot.unload();
    if (stillUsed) this.#unloading.add(slot);
    await closed;
    this.#unloading.delete(slot);
    if (await this.#gpuLoads.measureRelease(slot, workers)) this.#options.measurements.recordRelease(slot);
  }

  /**
   * releaseModel(): frees the model now unless other getModel() references are held (then one
   * is dropped), or regardless with `force`. @returns true when something was freed.
   */
  async release(name: string, force: boolean): Promise<boolean> {
    let freed = false;
    for (const slot of this.slotsNamed(name)) {
      if (!force && slot.refs > 1) {
        slot.dropRef();
        continue;
      }
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
