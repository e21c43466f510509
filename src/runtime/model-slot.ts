/**
 * One model loaded for one task type: its instances, references, queue and keep-alive timer.
 * The manager decides when slots load and go; a slot only keeps the books.
 */
import type { Device, InferenceBackend, TaskType } from './backends/backend.js';
import type { DeviceRequest } from './devices.js';
import { keepAliveMinutes } from './keep-alive.js';
import type { ResolvedModel } from './resolve-model.js';
import type { LoadedModelInfo, ModelStatus, TaskInfo } from './types.js';
import type { WorkerPool } from './worker-pool.js';

let useCounter = 0;

export interface SlotConfig {
  taskType: TaskType;
  /** What the request asked for; `device` is where the load was placed. */
  requestedDevice: DeviceRequest;
  device: Device;
  workers: number;
  keepAliveMs: number;
  /** Most texts in one backend call, when the model's configuration sets it (else the manager's batching). */
  batchSize?: number | undefined;
}

/** A task() request inside a slot, listed by ps from the moment it has the slot until it ends. */
export class ActiveTask {
  #state: TaskInfo['state'] = 'queued';
  #since = Date.now();

  constructor(
    readonly taskType: TaskType,
    readonly maxTokens: number | undefined,
    private readonly list: Set<ActiveTask>,
  ) {
    list.add(this);
  }

  /** An instance took it. */
  start(): void {
    this.#state = 'running';
    this.#since = Date.now();
  }

  end(): void {
    this.list.delete(this);
  }

  info(): TaskInfo {
    return { taskType: this.taskType, state: this.#state, since: new Date(this.#since).toISOString(), ...(this.maxTokens === undefined ? {} : { maxTokens: this.maxTokens }) };
  }
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

export class ModelSlot {
  readonly key: string;
  readonly name: string;
  readonly location: ResolvedModel;
  readonly config: SlotConfig;
  readonly warnings: string[] = [];
  state: 'loading' | 'ready' | 'closed' = 'loading';
  backend: InferenceBackend | undefined;
  pool: WorkerPool | undefined;
  /** Settles when the load ends; the first requests all wait on this one promise. */
  ready: Promise<void> | undefined;
  /** Bytes of RAM reserved in the budget: the estimate while loading, then what the load reported. */
  sizeBytes: number;
  /** GPU memory reserved per device, against that device's budget. */
  readonly vram = new Map<Device, number>();
  /** Device memory measured around the load, per GPU (when the backend can tell). */
  vramMeasures: VramMeasure[] = [];
  /** The GPU kind the instances compute on; undefined on the CPU. */
  gpuKind: string | undefined;
  /** What the load was expected to take (checked against the budget before loading). */
  estimatedBytes = 0;
  /** References from getModel() handles. */
  refs = 0;
  /** Requests inside task(): waiting for the load, queued, or running. */
  inFlight = 0;
  /** Requests waiting for the load to finish (they count against maxQueue). */
  awaitingLoad = 0;
  requests = 0;
  loadedAt = new Date();
  lastUsedAt = new Date();
  /** Order of last use across all slots (clock times tie within a millisecond). */
  lastUse = ++useCounter;
  expiresAt: Date | null = null;
  /** Set once the registry holds a throughput figure for this load. */
  throughputRecorded = false;
  loadTimeMs = 0;
  memoryBytes = 0;
  /** Settles once a freed slot's instances are disposed. */
  closed: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #unusedWaiters: (() => void)[] = [];
  readonly #tasks = new Set<ActiveTask>();

  constructor(key: string, name: string, location: ResolvedModel, config: SlotConfig, estimateBytes: number) {
    this.key = key;
    this.name = name;
    this.location = location;
    this.config = config;
    this.sizeBytes = estimateBytes;
  }

  /** Idle: loaded, no references, nothing running or waiting; only idle slots may be evicted. */
  get idle(): boolean {
    return this.state === 'ready' && this.refs === 0 && this.inFlight === 0;
  }

  /** Resolves once no request is inside the slot. */
  unused(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#unusedWaiters.push(resolve));
  }

  notifyUnused(): void {
    if (this.inFlight === 0) for (const wake of this.#unusedWaiters.splice(0)) wake();
  }

  /** Lists a task() request in ps (queued until `start()`) until its `end()`. */
  enterTask(maxTokens: number | undefined): ActiveTask {
    return new ActiveTask(this.config.taskType, maxTokens, this.#tasks);
  }

  touch(): void {
    this.lastUsedAt = new Date();
    this.lastUse = ++useCounter;
  }

  /** Starts the keep-alive countdown; `onExpire` frees the slot. */
  armTimer(onExpire: () => void): void {
    this.disarmTimer();
    const ms = this.config.keepAliveMs;
    if (ms === Infinity) return;
    this.expiresAt = new Date(Date.now() + ms);
    // Timers past ~24.8 days overflow setTimeout; no keep-alive needs that precision.
    this.#timer = setTimeout(onExpire, Math.min(ms, 2 ** 31 - 1));
    this.#timer.unref();
  }

  disarmTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.expiresAt = null;
  }

  /** GPU memory reserved on all devices. */
  get vramBytes(): number {
    let total = 0;
    for (const bytes of this.vram.values()) total += bytes;
    return total;
  }

  /** The `ps` view. */
  info(): LoadedModelInfo {
    return {
      // A freed slot is listed while requests still run in it.
      state: this.state === 'closed' ? 'unloading' : this.state,
      name: this.name,
      model: this.location.key,
      taskType: this.config.taskType,
      backend: this.backend?.name ?? '',
      device: this.config.device,
      ...(this.gpuKind ? { gpuKind: this.gpuKind } : {}),
      workers: this.pool?.instances.length ?? this.config.workers,
      refs: this.refs + this.inFlight,
      sizeBytes: this.sizeBytes + this.vramBytes,
      sizeVram: this.vramBytes,
      loadedAt: this.loadedAt.toISOString(),
      lastUsedAt: this.lastUsedAt.toISOString(),
      expiresAt: this.expiresAt?.toISOString() ?? null,
      queue: this.awaitingLoad + (this.pool?.queued ?? 0),
      running: this.pool?.active ?? 0,
      tasks: [...this.#tasks].map((t) => t.info()),
    };
  }

  status(): ModelStatus {
    return {
      ...this.info(),
      path: this.location.path,
      estimatedBytes: this.estimatedBytes,
      loadTimeMs: this.loadTimeMs,
      measuredBytes: this.memoryBytes,
      keepAliveMinutes: keepAliveMinutes(this.config.keepAliveMs),
      requests: this.requests,
      backendCalls: this.pool?.calls ?? 0,
      warnings: [...this.warnings],
      vram: this.vramMeasures.map((m) => ({ ...m })),
    };
  }
}
