/**
 * One model loaded for one task type: where its load went, what it reserved in the memory budgets
 * and what it measured, and the views `ps` and the status show. Its lifecycle (loading, ready,
 * unloading, closed) and the requests and references that hold it are its SlotLifecycle's; the
 * scheduler decides when slots load and go, a slot keeps the books.
 */
import type { Device, InferenceBackend, TaskType } from './backends/backend.js';
import type { DeviceRequest } from './devices.js';
import { keepAliveMinutes } from './keep-alive.js';
import type { ResolvedModel } from './resolve-model.js';
import { SlotLifecycle } from './slot-lifecycle.js';
import type { LoadedModelInfo, ModelStatus } from './types.js';
import type { WorkerPool } from './worker-pool.js';

export interface SlotConfig {
  taskType: TaskType;
  /** What the request asked for; `device` is where the load was placed. */
  requestedDevice: DeviceRequest;
  device: Device;
  workers: number;
  /** The keep-alive it starts with (a later request may name another: `keepAliveMs`). */
  keepAliveMs: number;
  /** Most texts in one backend call, when the model's configuration sets it (else the manager's batching). */
  batchSize?: number | undefined;
}

/** A GPU's used memory around one load and after the release (what `measured.vram` records). */
export interface VramMeasure {
  device: Device;
  deviceName: string;
  totalBytes: number;
  beforeLoadBytes: number;
  afterLoadBytes: number;
  afterReleaseBytes?: number;
}

/** Where a load goes, once its backend is picked. */
export interface SlotPlan {
  backend: InferenceBackend;
  device: Device;
  workers: number;
  /** What the load is expected to take, all workers together. */
  estimatedBytes: number;
}

/** What a finished load hands the slot. */
export interface SlotLoad {
  pool: WorkerPool;
  /** Where the instances landed: `cpu` drops the slot's GPU reservations. */
  device: Device;
  gpuKind: string | undefined;
  /** RAM the instances hold (reported, else the reservation). */
  sizeBytes: number;
  loadTimeMs: number;
  /** What the load measured: reported by the backend, else the growth of the process's RSS. */
  memoryBytes: number;
}

export class ModelSlot extends SlotLifecycle {
  readonly key: string;
  readonly location: ResolvedModel;
  readonly #config: Omit<SlotConfig, 'keepAliveMs'>;
  readonly #warnings: string[] = [];
  #backend: InferenceBackend | undefined;
  #gpuKind: string | undefined;
  #estimatedBytes = 0;
  /** RAM reserved in the budget: the estimate while loading, then what the load reported. */
  #sizeBytes = 0;
  /** GPU memory reserved per device, against that device's budget. */
  readonly #vram = new Map<Device, number>();
  readonly #vramMeasures: VramMeasure[] = [];
  #loadTimeMs = 0;
  #memoryBytes = 0;
  #loadedAt = new Date();

  /** Starts loading at once: `load(slot)` plans the load, fills the books and ends with `finishLoad()`, or throws. */
  constructor(key: string, name: string, location: ResolvedModel, { keepAliveMs, ...config }: SlotConfig, load: (slot: ModelSlot) => Promise<void>) {
    super(name, config.taskType, keepAliveMs);
    this.key = key;
    this.location = location;
    this.#config = config;
    this.startLoad(load(this));
  }

  get config(): Readonly<Omit<SlotConfig, 'keepAliveMs'>> {
    return this.#config;
  }

  get backend(): InferenceBackend | undefined {
    return this.#backend;
  }

  /** The GPU kind the instances compute on; undefined on the CPU. */
  get gpuKind(): string | undefined {
    return this.#gpuKind;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  /** GPU memory reserved on `device`; undefined when the slot has nothing there. */
  vramOn(device: Device): number | undefined {
    return this.#vram.get(device);
  }

  /** GPU memory reserved on all devices. */
  get vramBytes(): number {
    let total = 0;
    for (const bytes of this.#vram.values()) total += bytes;
    return total;
  }

  get loadTimeMs(): number {
    return this.#loadTimeMs;
  }

  get memoryBytes(): number {
    return this.#memoryBytes;
  }

  /** Device memory measured around the load, per GPU (when the backend can tell); copies. */
  get vramMeasures(): VramMeasure[] {
    return this.#vramMeasures.map((m) => ({ ...m }));
  }

  warn(warning: string): void {
    this.#warnings.push(warning);
  }

  /** The backend is picked and the load placed. */
  planned({ backend, device, workers, estimatedBytes }: SlotPlan): void {
    this.expectLoadRunning('plan its load');
    this.#backend = backend;
    this.#config.device = device;
    this.#config.workers = workers;
    this.#estimatedBytes = estimatedBytes;
  }

  /** Reserves `bytes` of RAM in the budget (the estimate, then what the load reported). */
  reserve(bytes: number): void {
    this.expectLoadRunning('reserve memory');
    this.#sizeBytes = bytes;
  }

  /** Reserves GPU memory on one device (the estimate, then what the instance reported). */
  reserveVram(device: Device, bytes: number): void {
    this.expectLoadRunning('reserve GPU memory');
    this.#vram.set(device, bytes);
  }

  /** The device's used memory around the load of one instance. */
  measuredVram(measure: VramMeasure): void {
    this.expectLoadRunning('measure GPU memory');
    this.#vramMeasures.push({ ...measure });
  }

  /** The device's used memory once the instances are disposed, beside its level before the load. @returns false when the load measured none there */
  measuredRelease(device: Device, usedBytes: number): boolean {
    this.expect('measure GPU memory after its release', 'closed');
    const measure = this.#vramMeasures.find((m) => m.device === device);
    if (measure) measure.afterReleaseBytes = usedBytes;
    return measure !== undefined;
  }

  /** loading → ready, with what the load made and measured. */
  finishLoad({ pool, device, gpuKind, sizeBytes, loadTimeMs, memoryBytes }: SlotLoad): void {
    this.becomeReady(pool);
    if (device === 'cpu') this.#vram.clear();
    this.#config.device = device;
    this.#gpuKind = gpuKind;
    this.#sizeBytes = sizeBytes;
    this.#loadTimeMs = loadTimeMs;
    this.#memoryBytes = memoryBytes;
    this.#loadedAt = new Date();
  }

  /** The `ps` view. */
  info(): LoadedModelInfo {
    const pool = this.pool;
    return {
      // A freed slot is listed while requests still run in it.
      state: this.state === 'closed' ? 'unloading' : this.state,
      name: this.name,
      model: this.location.key,
      taskType: this.#config.taskType,
      backend: this.#backend?.name ?? '',
      device: this.#config.device,
      ...(this.#gpuKind ? { gpuKind: this.#gpuKind } : {}),
      workers: pool?.instances.length ?? this.#config.workers,
      refs: this.refs + this.inFlight,
      sizeBytes: this.#sizeBytes + this.vramBytes,
      sizeVram: this.vramBytes,
      loadedAt: this.#loadedAt.toISOString(),
      lastUsedAt: this.lastUsedAt.toISOString(),
      expiresAt: this.expiresAt?.toISOString() ?? null,
      queue: this.awaitingLoad + (pool?.queued ?? 0),
      running: pool?.active ?? 0,
      tasks: this.tasks,
    };
  }

  status(): ModelStatus {
    return {
      ...this.info(),
      path: this.location.path,
      estimatedBytes: this.#estimatedBytes,
      loadTimeMs: this.#loadTimeMs,
      measuredBytes: this.#memoryBytes,
      keepAliveMinutes: keepAliveMinutes(this.keepAliveMs),
      requests: this.requests,
      backendCalls: this.pool?.calls ?? 0,
      warnings: [...this.#warnings],
      vram: this.vramMeasures,
    };
  }
}
