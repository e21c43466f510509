/**
 * ModelManager: one `task()` call that finds, loads, shares, batches and frees models.
 *
 * Lifecycle rules (DESIGN "Runtime", seeds 001 and 003):
 * - a model loads on first use, once: concurrent first requests wait on the same load;
 * - getModel() handles and running requests hold references; the keep-alive timer starts when
 *   the last goes (0 frees at once, -1 never), and its expiry frees the model;
 * - before a load its cost is estimated; idle models (least recently used first) are evicted
 *   to fit the memory budget and the loaded-model limit, else the request fails OUT_OF_MEMORY;
 * - each model has a bounded queue (QUEUE_FULL past `maxQueue` waiting requests);
 * - releaseModel() frees at once and forgets the model's config, so the next request may load it
 *   with other workers or another device.
 */
import { totalmem } from 'node:os';
import { config as processConfig } from '../config.js';
import { isModelManagerError, ModelManagerError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import type { InferenceBackend, TaskType } from './backends/backend.js';
import { BackendRegistry } from './backend-registry.js';
import { detectGpuCount, parseDevice, planDevice, type DeviceRequest } from './devices.js';
import { EmbeddingCache } from './embedding-cache.js';
import { keepAliveMinutes, parseKeepAlive } from './keep-alive.js';
import { loadInstances } from './load-instances.js';
import { ModelHandle } from './model-handle.js';
import { ModelSlot } from './model-slot.js';
import { resolveModel, weightBytes, type ResolvedModel } from './resolve-model.js';
import { fail, ok, type Result } from './result.js';
import { embeddingTexts, generationPrompt } from './task-input.js';
import { cachedEmbeddings, runTask } from './run-task.js';
import type { LoadedModelInfo, ManagerStatus, ModelManagerOptions, ModelStatus, TaskOutput, TaskRequest } from './types.js';
import { WorkerPool, type BatchingOptions } from './worker-pool.js';

/** Most instances one model may have. */
const MAX_WORKERS = 64;

export interface GetModelOptions {
  /** Defaults to `embedding`. */
  taskType?: TaskType;
  numWorkers?: number;
  device?: DeviceRequest;
  keepAlive?: number | string;
}

interface AcquireOptions {
  numWorkers?: unknown;
  device?: unknown;
  keepAlive?: unknown;
}

export class ModelManager implements AsyncDisposable {
  readonly registry: Registry | undefined;
  readonly memoryBudgetBytes: number;
  readonly maxLoadedModels: number;
  readonly maxQueue: number;
  readonly defaultKeepAliveMs: number;
  readonly cache: EmbeddingCache;
  readonly #backends = new BackendRegistry();
  readonly #slots = new Map<string, ModelSlot>();
  /** Names already resolved, while a slot of theirs lives (saves the file system walk per request). */
  readonly #resolved = new Map<string, ResolvedModel>();
  readonly #batching: BatchingOptions;
  readonly #modelRoots: string[];
  readonly #hubCache: string;
  readonly #onWarning: (message: string) => void;
  readonly #abort = new AbortController();
  readonly #pendingWrites = new Set<Promise<unknown>>();
  readonly #counters = { loads: 0, loadFailures: 0, evictions: 0, expired: 0, released: 0 };
  #gpuCount: number | undefined;
  #initialized: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: ModelManagerOptions) {
    const {
      registry,
      memoryBudgetBytes = Math.floor(totalmem() * 0.8),
      maxLoadedModels = 3,
      maxQueue = 512,
      defaultKeepAlive = 5,
      embeddingCache = {},
      batching = {},
      modelRoots = ['./models'],
      hubCache = processConfig().hf.hubCache,
      gpuCount,
      onWarning = (message: string) => process.emitWarning(message, { code: 'MODEL_MANAGER' }),
    } = options;
    this.registry = registry;
    this.memoryBudgetBytes = memoryBudgetBytes;
    this.maxLoadedModels = Math.max(1, maxLoadedModels);
    this.maxQueue = Math.max(0, maxQueue);
    this.defaultKeepAliveMs = parseKeepAlive(defaultKeepAlive);
    this.cache = new EmbeddingCache(embeddingCache);
    this.#batching = batching;
    this.#modelRoots = modelRoots;
    this.#hubCache = hubCache;
    this.#gpuCount = gpuCount;
    this.#onWarning = onWarning;
  }

  /** Creates and initializes a manager (loads the persisted embedding cache, finds GPUs). */
  static async create(options: ModelManagerOptions = {}): Promise<ModelManager> {
    const manager = new ModelManager(options);
    await manager.initialize();
    return manager;
  }

  /** Loads the persisted embedding cache and detects GPUs; idempotent. */
  initialize(): Promise<void> {
    this.#initialized ??= (async () => {
      this.#gpuCount ??= await detectGpuCount();
      try {
        await this.cache.load();
      } catch (error) {
        // A bad cache file is only lost speed; say so and start empty.
        this.#onWarning(error instanceof Error ? error.message : String(error));
      }
    })();
    return this.#initialized;
  }

  /** Adds a backend for new formats or task types; asked before the built-in ones. */
  registerBackend(backend: InferenceBackend): void {
    this.#backends.register(backend);
  }

  /** Runs one task, loading the model when needed. Never throws: failures are a Result with a stable code. */
  async task(request: TaskRequest): Promise<Result<TaskOutput>> {
    try {
      return ok(await this.#task(request));
    } catch (error) {
      return fail(error);
    }
  }

  async #task(request: TaskRequest): Promise<TaskOutput> {
    if (this.#closing) throw new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down: retry on another instance');
    if (request === null || typeof request !== 'object') throw new ModelManagerError('INVALID_ARGUMENT', 'task() takes one request object');
    const { taskData, taskType, modelName, numWorkers, device, keepAlive, onToken, ...params } = request;
    if (typeof taskType !== 'string' || taskType === '') throw new ModelManagerError('INVALID_ARGUMENT', 'taskType is required: embedding, text_generation, or a registered custom type');
    if (typeof modelName !== 'string') throw new ModelManagerError('INVALID_ARGUMENT', 'modelName is required: a registry id, a Hugging Face id or a model path');
    if (!this.#backends.servesTask(taskType)) {
      throw new ModelManagerError('UNSUPPORTED_TASK', `task type "${taskType}" is not supported: use embedding or text_generation, or register a backend for it`, {
        details: { taskType, backends: this.#backends.names() },
      });
    }
    // Bad data fails before any model is loaded.
    if (taskData !== null && taskType === 'embedding') embeddingTexts(taskData);
    if (taskData !== null && taskType === 'text_generation') generationPrompt(taskData);
    if (taskData === undefined) throw new ModelManagerError('INVALID_TASK_DATA', 'taskData is required: the input, or null to only load the model');

    if (taskData !== null && taskType === 'embedding') {
      // Texts all in the cache need no model: answer without loading it.
      const location = await this.#locate(modelName);
      const hit = cachedEmbeddings(this.cache, modelName, location.key, taskData, params);
      if (hit) return hit;
    }

    const slot = await this.#acquire(modelName, taskType, { numWorkers, device, keepAlive });
    try {
      if (taskData === null) {
        return {
          preloaded: true,
          modelName,
          workers: slot.pool?.instances.length ?? 0,
          device: slot.config.device,
          keepAliveMinutes: keepAliveMinutes(slot.config.keepAliveMs),
        };
      }
      slot.requests += 1;
      return await runTask(slot, { taskType, taskData, params, cache: this.cache, signal: this.#abort.signal, ...(typeof onToken === 'function' ? { onToken } : {}), onMeasured: (t) => this.#recordThroughput(slot, t) });
    } finally {
      this.#leave(slot);
    }
  }

  /**
   * A shared, reference-counted handle on a model (seed 001). Every getModel() of the same
   * model returns the same loaded instances; hold it as long as you use it, then `release()` it.
   * @throws ModelManagerError (MODEL_NOT_FOUND, MODEL_LOAD_FAILED, OUT_OF_MEMORY, ...)
   */
  async getModel(name: string, { taskType = 'embedding', ...options }: GetModelOptions = {}): Promise<ModelHandle> {
    const slot = await this.#acquire(name, taskType, options);
    slot.refs += 1;
    const pool = slot.pool!;
    let released = false;
    const handle = new ModelHandle(
      {
        name,
        model: slot.location.key,
        taskType,
        backend: slot.backend?.name ?? '',
        device: slot.config.device,
        workers: pool.instances.length,
        dimensions: pool.instances[0]?.dimensions,
      },
      {
        embed: (texts, params) => this.#use(slot, () => pool.embed(texts, params)),
        generate: (prompt, params) => this.#use(slot, () => pool.run((m) => {
          if (!m.generate) throw new ModelManagerError('UNSUPPORTED_TASK', `${m.backend} loaded "${name}" without text generation`);
          return m.generate(prompt, params);
        })),
        run: (data, params) => this.#use(slot, () => pool.run((m) => {
          if (!m.run) throw new ModelManagerError('UNSUPPORTED_TASK', `${m.backend} has no custom task "${taskType}"`);
          return m.run(taskType, data, params);
        })),
        release: () => {
          if (released) return;
          released = true;
          slot.refs = Math.max(0, slot.refs - 1);
          this.#afterUse(slot);
        },
      },
    );
    this.#leave(slot);
    return handle;
  }

  /**
   * Frees a model now and forgets its config (seed 003), so the next request loads it afresh,
   * possibly with other workers or another device. When other getModel() references are still
   * held it only drops one of them (seed 001) unless `force` is set.
   * @returns true when the model was freed, false when it was not loaded or is still referenced.
   */
  async releaseModel(name: string, { force = false }: { force?: boolean } = {}): Promise<boolean> {
    const slots = this.#slotsNamed(name);
    let freed = false;
    for (const slot of slots) {
      if (!force && slot.refs > 1) {
        slot.refs -= 1;
        continue;
      }
      slot.refs = 0;
      this.#counters.released += 1;
      await this.#free(slot);
      freed = true;
    }
    return freed;
  }

  /** Embeds `texts` with the cache (seed 001). @throws ModelManagerError */
  async generateEmbeddings(texts: string[] | string, modelId: string): Promise<{ embeddings: number[][]; cached: number; dimensions: number }> {
    const result = await this.task({ taskData: texts, taskType: 'embedding', modelName: modelId });
    if (!result.success) throw new ModelManagerError(result.error.code, result.error.message, { details: result.error.details });
    const { embeddings, cached, dimensions } = result.data as { embeddings: number[][]; cached: number; dimensions: number };
    return { embeddings, cached, dimensions };
  }

  /** Loaded models, as `mm ps` lists them (models still loading are left out). */
  ps(): LoadedModelInfo[] {
    return [...this.#slots.values()].filter((s) => s.state === 'ready').map((s) => s.info());
  }

  /** Status of one model by the name it was asked for (or its registry id / path); undefined when not loaded. */
  getModelStatus(name: string): ModelStatus | undefined {
    return this.#slotsNamed(name)[0]?.status();
  }

  getStatus(): ManagerStatus {
    const slots = [...this.#slots.values()];
    return {
      initialized: this.#initialized !== undefined,
      shuttingDown: this.#closing !== undefined,
      loaded: slots.filter((s) => s.state === 'ready').length,
      loading: slots.filter((s) => s.state === 'loading').length,
      queueDepth: slots.reduce((n, s) => n + s.awaitingLoad + (s.pool?.queued ?? 0), 0),
      memory: { budgetBytes: this.memoryBudgetBytes, usedBytes: slots.reduce((n, s) => n + s.sizeBytes, 0) },
      maxLoadedModels: this.maxLoadedModels,
      maxQueue: this.maxQueue,
      gpuCount: this.#gpuCount ?? 0,
      backends: this.#backends.names(),
      cache: this.cache.stats(),
      counters: { ...this.#counters },
      models: slots.map((s) => s.status()),
    };
  }

  /** Frees every model, saves the embedding cache, and refuses new work; idempotent. */
  shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      const stopping = new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down: retry on another instance');
      for (const slot of this.#slots.values()) slot.pool?.rejectQueued(stopping);
      await Promise.allSettled([...this.#slots.values()].map((slot) => this.#free(slot)));
      await Promise.allSettled([...this.#pendingWrites]);
      await this.cache.save().catch((error: unknown) => this.#onWarning(`could not save the embedding cache: ${String(error)}`));
    })();
    return this.#closing;
  }

  /** Same as shutdown(). */
  dispose(): Promise<void> {
    return this.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  // --- lifecycle -------------------------------------------------------------------------

  /** Finds or starts the model's slot and counts the caller in; resolves once it is loaded. */
  async #acquire(name: string, taskType: TaskType, options: AcquireOptions): Promise<ModelSlot> {
    if (this.#closing) throw new ModelManagerError('SHUTTING_DOWN', 'the model manager is shutting down: retry on another instance');
    await this.initialize();
    const keepAliveMs = options.keepAlive === undefined ? undefined : parseKeepAlive(options.keepAlive as number | string);
    const workers = options.numWorkers ?? 1;
    if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new ModelManagerError('INVALID_ARGUMENT', `numWorkers must be an integer from 1 to ${MAX_WORKERS}`, { details: { numWorkers: workers } });
    }
    const device = options.device === undefined ? 'auto' : parseDevice(String(options.device));
    const location = await this.#locate(name);
    // No await from here to the map insert: two first requests must find the same slot.
    const key = `${location.key}\0${taskType}`;
    let slot = this.#slots.get(key);
    if (!slot) {
      slot = this.#createSlot(key, name, location, taskType, workers, device, keepAliveMs);
    } else if (slot.awaitingLoad + (slot.pool?.queued ?? 0) >= this.maxQueue) {
      throw new ModelManagerError('QUEUE_FULL', `"${name}" already has ${this.maxQueue} requests waiting: retry later or raise maxQueue`, {
        details: { modelName: name, maxQueue: this.maxQueue },
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
        throw error;
      } finally {
        slot.awaitingLoad -= 1;
      }
    }
    return slot;
  }

  async #locate(name: string): Promise<ResolvedModel> {
    return this.#resolved.get(name) ?? (await resolveModel(name, { registry: this.registry, hubCache: this.#hubCache, modelRoots: this.#modelRoots }));
  }

  #createSlot(key: string, name: string, location: ResolvedModel, taskType: TaskType, workers: number, requested: DeviceRequest, keepAliveMs: number | undefined): ModelSlot {
    const plan = planDevice(requested, workers, this.#gpuCount ?? 0);
    const slot = new ModelSlot(key, name, location, { taskType, device: plan.device, workers: plan.workers, keepAliveMs: keepAliveMs ?? this.defaultKeepAliveMs }, 0);
    if (plan.warning) {
      slot.warnings.push(plan.warning);
      this.#onWarning(`${name}: ${plan.warning}`);
    }
    this.#slots.set(key, slot);
    slot.ready = this.#load(slot);
    // Waiters get the error through `ready`; this handler only keeps it from being unhandled.
    slot.ready.catch(() => undefined);
    return slot;
  }

  async #load(slot: ModelSlot): Promise<void> {
    try {
      const backend = await this.#backends.pick(slot.location, slot.config.taskType);
      slot.backend = backend;
      const each = (await backend.estimateBytes?.(slot.location).catch(() => undefined))
        ?? slot.location.model?.memoryEstimate?.totalBytes
        ?? (await weightBytes(slot.location.path));
      slot.estimatedBytes = each * slot.config.workers;
      await this.#makeRoom(slot, slot.estimatedBytes);
      this.#counters.loads += 1;
      const loaded = await loadInstances(backend, slot.location, slot.config, this.#abort.signal);
      if (slot.state === 'closed') {
        await Promise.allSettled(loaded.instances.map((m) => m.dispose()));
        throw new ModelManagerError('SHUTTING_DOWN', `"${slot.name}" was released while it loaded`);
      }
      slot.pool = new WorkerPool(loaded.instances, this.#batching);
      // The backend knows where the instance really landed (e.g. a GPU build that fell back to CPU).
      slot.config.device = loaded.instances[0]?.device ?? slot.config.device;
      slot.sizeBytes = loaded.reportedBytes ?? slot.sizeBytes;
      slot.loadTimeMs = loaded.loadTimeMs;
      slot.memoryBytes = loaded.reportedBytes ?? loaded.rssDeltaBytes;
      slot.loadedAt = new Date();
      slot.state = 'ready';
      await this.#recordLoad(slot);
    } catch (error) {
      this.#counters.loadFailures += 1;
      this.#forget(slot);
      throw error;
    }
  }

  /** Reserves `bytes` for `slot`, evicting idle models (least recently used first) when needed. @throws OUT_OF_MEMORY */
  async #makeRoom(slot: ModelSlot, bytes: number): Promise<void> {
    const others = () => [...this.#slots.values()].filter((s) => s !== slot);
    const used = () => others().reduce((n, s) => n + s.sizeBytes, 0);
    const victims: ModelSlot[] = [];
    const idle = others().filter((s) => s.idle).sort((a, b) => a.lastUsedAt.getTime() - b.lastUsedAt.getTime());
    while (used() + bytes > this.memoryBudgetBytes || others().length >= this.maxLoadedModels) {
      const victim = idle.shift();
      if (!victim) {
        const tooMany = others().length >= this.maxLoadedModels;
        throw new ModelManagerError(
          'OUT_OF_MEMORY',
          tooMany
            ? `cannot load "${slot.name}": ${this.maxLoadedModels} models are loaded and in use; release one (mm release) or raise maxLoadedModels`
            : `cannot load "${slot.name}": it needs about ${bytes} bytes and only ${Math.max(0, this.memoryBudgetBytes - used())} of the ${this.memoryBudgetBytes}-byte budget are free; release a model or raise memoryBudgetBytes`,
          { details: { modelName: slot.name, neededBytes: bytes, budgetBytes: this.memoryBudgetBytes, usedBytes: used(), loaded: others().length, maxLoadedModels: this.maxLoadedModels } },
        );
      }
      victims.push(victim);
      this.#counters.evictions += 1;
      this.#forget(victim);
    }
    slot.sizeBytes = bytes;
    await Promise.all(victims.map((v) => this.#free(v)));
  }

  /** Runs one piece of work on a slot held by a handle, keeping it counted as in use meanwhile. */
  async #use<T>(slot: ModelSlot, work: () => Promise<T>): Promise<T> {
    if (slot.state !== 'ready') throw new ModelManagerError('INVALID_ARGUMENT', `"${slot.name}" was released: call getModel() again`);
    slot.inFlight += 1;
    slot.touch();
    try {
      return await work();
    } finally {
      this.#leave(slot);
    }
  }

  #leave(slot: ModelSlot): void {
    slot.inFlight = Math.max(0, slot.inFlight - 1);
    slot.touch();
    this.#afterUse(slot);
  }

  /** Starts the keep-alive countdown once nothing holds the model. */
  #afterUse(slot: ModelSlot): void {
    if (slot.inFlight === 0) slot.notifyUnused();
    if (!slot.idle || this.#slots.get(slot.key) !== slot) return;
    if (slot.config.keepAliveMs === 0) void this.#free(slot);
    else slot.armTimer(() => {
      if (!slot.idle) return;
      this.#counters.expired += 1;
      void this.#free(slot);
    });
  }

  /** Takes a slot out of the books so new requests start a fresh one. */
  #forget(slot: ModelSlot): void {
    if (this.#slots.get(slot.key) === slot) this.#slots.delete(slot.key);
    const stillUsed = new Set([...this.#slots.values()].map((s) => s.location.key));
    for (const [name, location] of this.#resolved) if (!stillUsed.has(location.key)) this.#resolved.delete(name);
  }

  /** Frees a slot: forgotten at once, disposed once the requests inside it are done. */
  async #free(slot: ModelSlot): Promise<void> {
    this.#forget(slot);
    slot.disarmTimer();
    if (slot.state === 'closed') return slot.closed;
    const wasLoading = slot.state === 'loading';
    slot.state = 'closed';
    slot.closed = (async () => {
      if (wasLoading) await slot.ready?.catch(() => undefined);
      await slot.unused();
      await Promise.allSettled(slot.pool?.instances.map((m) => m.dispose()) ?? []);
    })();
    return slot.closed;
  }

  #slotsNamed(name: string): ModelSlot[] {
    const key = this.#resolved.get(name)?.key;
    return [...this.#slots.values()].filter((s) => s.name === name || s.location.key === name || s.location.key === key);
  }

  // --- measurements ----------------------------------------------------------------------

  async #recordLoad(slot: ModelSlot): Promise<void> {
    const modelId = slot.location.model?.modelId;
    if (!this.registry || !modelId) return;
    await this.registry
      .recordMeasured(modelId, {
        loadTimeMs: slot.loadTimeMs,
        memoryBytes: slot.memoryBytes,
        device: slot.config.device,
        backend: slot.backend?.name,
        at: new Date().toISOString(),
      })
      .catch((error: unknown) => this.#onWarning(`could not record measurements of ${modelId}: ${describeError(error)}`));
  }

  #recordThroughput(slot: ModelSlot, throughput: { value: number; unit: string }): void {
    const modelId = slot.location.model?.modelId;
    if (!this.registry || !modelId || slot.throughputRecorded) return;
    slot.throughputRecorded = true;
    const write = this.registry
      .recordMeasured(modelId, {
        loadTimeMs: slot.loadTimeMs,
        memoryBytes: slot.memoryBytes,
        throughput: throughput.value,
        throughputUnit: throughput.unit,
        device: slot.config.device,
        backend: slot.backend?.name,
        at: new Date().toISOString(),
      })
      .catch((error: unknown) => this.#onWarning(`could not record throughput of ${modelId}: ${describeError(error)}`))
      .finally(() => this.#pendingWrites.delete(write));
    this.#pendingWrites.add(write);
  }

  /** Waits for registry writes still under way (throughput figures); tests and servers call this before reading them. */
  async flushMeasurements(): Promise<void> {
    await Promise.allSettled([...this.#pendingWrites]);
  }
}

function describeError(error: unknown): string {
  return isModelManagerError(error) || error instanceof Error ? error.message : String(error);
}
