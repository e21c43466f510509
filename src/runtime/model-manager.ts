/**
 * ModelManager: one `task()` call that finds, loads, shares, batches and frees models, plus the
 * service API of seed 001 (getModel/releaseModel, generateEmbeddings, status, initialize,
 * shutdown) on the same core. The lifecycle rules live in the Scheduler; requests run through
 * each model's WorkerPool (queue, dynamic batching) and the embedding cache.
 */
import { totalmem } from 'node:os';
import { config as processConfig } from '../config.js';
import { ModelManagerError, isModelManagerError } from '../errors.js';
import type { Registry } from '../registry/registry.js';
import { loadSettings } from '../settings/load-settings.js';
import { withSettings } from '../settings/manager-options.js';
import type { InferenceBackend, TaskType } from './backends/backend.js';
import { BackendRegistry } from './backend-registry.js';
import { ConfiguredModels, configuredLoad, checkTaskType, type ConfiguredModel } from './configured-models.js';
import type { DeviceRequest } from './devices.js';
import { EmbeddingCache, type CachedTexts } from './embedding-cache.js';
import { GpuDevices } from './gpu/gpu-devices.js';
import { keepAliveMinutes, parseKeepAlive } from './keep-alive.js';
import { MeasurementRecorder } from './measurements.js';
import { handleOnSlot, type ModelHandle } from './model-handle.js';
import type { PullToRegistryOptions, RegisteredPull as PulledToRegistry } from '../hub/pull/register-pull.js';
import { resolveModel, type PulledModel, type ResolvedModel } from './resolve-model.js';
import { Scheduler, shuttingDown } from './scheduler.js';
import { fail, ok, resultError, type Result } from './result.js';
import { throwIfCancelled } from './cancellation.js';
import { isPreload, parseLoadRequest, parseTaskRequest, type TaskInput } from './task-input.js';
import { cachedEmbeddings, runTask } from './run-task.js';
import type { GpuBackendStatus, LoadedModelInfo, ManagerStatus, ModelManagerOptions, ModelStatus, TaskOutput, TaskOutputOf, TaskRequest } from './types.js';

export interface GetModelOptions {
  /** Defaults to `embedding`. */
  taskType?: TaskType;
  numWorkers?: number;
  device?: DeviceRequest;
  keepAlive?: number | string;
}

export class ModelManager implements AsyncDisposable {
  readonly registry: Registry | undefined;
  readonly memoryBudgetBytes: number;
  readonly maxLoadedModels: number;
  readonly maxQueue: number;
  readonly defaultKeepAliveMs: number;
  readonly cache: EmbeddingCache;
  readonly #backends: BackendRegistry;
  readonly #gpus: GpuDevices;
  /** Whether a hub id found nowhere on disk is pulled on first use. */
  readonly autoPull: boolean;
  readonly #pullOptions: NonNullable<ModelManagerOptions['pull']>;
  readonly #configured: ConfiguredModels;
  readonly #scheduler: Scheduler;
  readonly #modelRoots: string[];
  readonly #hubCache: string;
  readonly #onWarning: (message: string) => void;
  readonly #abort = new AbortController();
  readonly #measurements: MeasurementRecorder;
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
      autoPull = processConfig().autoPull,
      pull: pullOptions = {},
      gpuCount,
      llamaGpu = processConfig().llamaGpu,
      gpuMemoryFraction = 0.9,
      devicePreference = 'auto',
      models = {},
      onWarning = (message: string) => process.emitWarning(message, { code: 'MODEL_MANAGER' }),
    } = options;
    if (!(gpuMemoryFraction > 0 && gpuMemoryFraction <= 1)) {
      throw new ModelManagerError('INVALID_ARGUMENT', `gpuMemoryFraction must be above 0 and at most 1, got ${gpuMemoryFraction}`, { details: { gpuMemoryFraction } });
    }
    this.#configured = new ConfiguredModels(models);
    this.registry = registry;
    this.memoryBudgetBytes = memoryBudgetBytes;
    this.maxLoadedModels = Math.max(1, maxLoadedModels);
    this.maxQueue = Math.max(1, maxQueue);
    this.defaultKeepAliveMs = parseKeepAlive(defaultKeepAlive);
    this.cache = new EmbeddingCache(embeddingCache);
    this.autoPull = autoPull;
    this.#pullOptions = pullOptions;
    this.#modelRoots = modelRoots;
    this.#hubCache = hubCache;
    this.#onWarning = onWarning;
    this.#backends = new BackendRegistry({ llamaGpu });
    this.#gpus = new GpuDevices({ gpuCount, gpuMemoryFraction, onWorkerLost: (worker, error) => this.#scheduler.workerLost(worker, error) });
    this.#measurements = new MeasurementRecorder(registry, onWarning);
    this.#scheduler = new Scheduler({
      backends: this.#backends,
      measurements: this.#measurements,
      // A configured model's name stands for what its settings load.
      resolve: (name) => resolveModel(this.#configured.get(name)?.source ?? name, {
        registry: this.registry, hubCache: this.#hubCache, modelRoots: this.#modelRoots,
        ...(autoPull ? { pull: (hubId: string) => this.#pullOnFirstUse(hubId) } : {}),
      }),
      batching,
      memoryBudgetBytes: this.memoryBudgetBytes,
      maxLoadedModels: this.maxLoadedModels,
      maxQueue: this.maxQueue,
      defaultKeepAliveMs: this.defaultKeepAliveMs,
      devicePreference,
      gpus: this.#gpus,
      onWarning,
      signal: this.#abort.signal,
    });
  }

  /**
   * Creates and initializes a manager (loads the persisted embedding cache). Options not given come
   * from the settings (`options.settings`, by default the settings file and the environment).
   * @throws INVALID_CONFIG for settings that do not hold, before anything starts
   */
  static async create(options: ModelManagerOptions = {}): Promise<ModelManager> {
    const { settings = await loadSettings(), ...given } = options;
    const manager = new ModelManager(settings === false ? given : withSettings(settings, given));
    await manager.initialize();
    return manager;
  }

  /** Loads the persisted embedding cache; idempotent. */
  initialize(): Promise<void> {
    this.#initialized ??= (async () => {
      try {
        await this.cache.load();
      } catch (error) {
        // A bad cache file is only lost speed; say so and start empty.
        this.#onWarning(error instanceof Error ? error.message : String(error));
      }
    })();
    return this.#initialized;
  }

  /**
   * Pulls a hub id (`org/name[:variant]`) into this manager's HF cache and registry, as `mm pull`
   * does; `onProgress` gets its events. Pulls of one model share one download.
   * @throws ModelManagerError as `pullToRegistry` (AUTH_REQUIRED, HUB_NOT_FOUND, DISK_FULL, ...)
   */
  async pull(name: string, options: Omit<PullToRegistryOptions, 'config' | 'fetch'> = {}): Promise<PulledToRegistry> {
    if (this.#closing) throw shuttingDown();
    const base = this.#pullOptions.config ?? processConfig();
    const config = { ...base, hf: { ...base.hf, hubCache: this.#hubCache } };
    const signals = [this.#abort.signal, this.#pullOptions.signal, options.signal].filter((x): x is AbortSignal => x !== undefined);
    // Loaded on the first pull: a runtime that never pulls never loads the hub client.
    const { pullModel, pullToRegistry } = await import('../hub/pull/index.js');
    const merged = { ...this.#pullOptions, ...options, config, signal: AbortSignal.any(signals) };
    if (this.registry) return pullToRegistry(this.registry, name, merged);
    const pull = await pullModel(name, merged);
    return { modelId: name, action: 'none', pull, warnings: [] };
  }

  /** The pull of a first use: a name the hub lacks too is a model not found. */
  async #pullOnFirstUse(name: string): Promise<PulledModel> {
    try {
      const { pull, model } = await this.pull(name);
      return { path: pull.modelPath, ...(model ? { model } : {}) };
    } catch (error) {
      // A name found nowhere, the hub included, is a model not found (the hub's answer kept as the cause).
      if (isModelManagerError(error, 'HUB_NOT_FOUND')) {
        throw new ModelManagerError('MODEL_NOT_FOUND', `model "${name}" not found: it is not registered (mm list), not on disk, and the hub has no such repo`, {
          details: { modelName: name }, cause: error,
        });
      }
      if (!isModelManagerError(error) || error.code === 'INTERRUPTED' || error.code === 'SHUTTING_DOWN') throw error;
      throw new ModelManagerError(error.code, `model "${name}" is not on disk, and pulling it failed: ${error.message}`, { details: { ...error.details, modelName: name }, cause: error });
    }
  }

  /** Adds a backend for new formats or task types; asked before the built-in ones. */
  registerBackend(backend: InferenceBackend): void {
    this.#backends.register(backend);
  }

  /**
   * Runs one task, loading the model when needed. Never throws: failures are a Result with a stable code.
   * The data is typed by the request: embeddings for `embedding`, text for `text_generation`, the preload
   * summary for `taskData: null`.
   */
  async task<R extends TaskRequest>(request: R): Promise<Result<TaskOutputOf<R>>> {
    try {
      // Bad requests fail before any model is loaded.
      return ok((await this.#run(parseTaskRequest(request, (name) => this.#configured.get(name)))) as TaskOutputOf<R>);
    } catch (error) {
      return fail(error);
    }
  }

  /**
   * Runs a request already checked by `parseTaskRequest()` (a server checks who may run the model
   * it names between the two), as task() runs it. Never throws.
   */
  async run(input: TaskInput): Promise<Result<TaskOutput>> {
    try {
      return ok(await this.#run(input));
    } catch (error) {
      return fail(error);
    }
  }

  async #run(input: TaskInput): Promise<TaskOutput> {
    if (this.#closing) throw shuttingDown();
    if (!this.#backends.servesTask(input.taskType)) {
      throw new ModelManagerError('UNSUPPORTED_TASK', `task type "${input.taskType}" is not supported: use embedding or text_generation, or register a backend for it`, {
        details: { taskType: input.taskType, backends: this.#backends.names() },
      });
    }
    throwIfCancelled(input.signal);

    await this.initialize();
    // An embedding request's texts are looked up (and hashed) once, here, unless its configured model skips the cache.
    let cached: CachedTexts | undefined;
    if (input.kind === 'embedding' && input.texts && input.useCache) {
      const location = await this.#scheduler.locate(input.modelName);
      cached = this.cache.lookup(location.key, input.params, input.texts);
      // Texts all in the cache need no model (unless their tokens are to be counted): answer without loading it.
      const hit = cached && !input.countTokens ? cachedEmbeddings(cached, input, location) : undefined;
      if (hit) return hit;
    }

    const slot = await this.#scheduler.acquire(input.modelName, input.taskType, input.load, input.configured);
    try {
      const ranOn = { device: slot.config.device, ...(slot.gpuKind ? { gpuKind: slot.gpuKind } : {}) };
      if (isPreload(input)) {
        return {
          preloaded: true,
          modelName: input.modelName,
          workers: slot.pool?.instances.length ?? 0,
          ...ranOn,
          keepAliveMinutes: keepAliveMinutes(slot.keepAliveMs),
        };
      }
      throwIfCancelled(input.signal);
      const output = await runTask(slot, input, { cache: this.cache, cached, shutdown: this.#abort.signal, onMeasured: (t) => this.#measurements.recordThroughput(slot, t) });
      return output !== null && typeof output === 'object' && (input.taskType === 'embedding' || input.taskType === 'text_generation') ? { ...output, ...ranOn } : output;
    } finally {
      this.#scheduler.leave(slot);
    }
  }

  /**
   * A shared, reference-counted handle on a model (seed 001). Every getModel() of the same
   * model returns the same loaded instances; hold it as long as you use it, then `release()` it.
   * @throws ModelManagerError (MODEL_NOT_FOUND, MODEL_LOAD_FAILED, OUT_OF_MEMORY, ...)
   */
  async getModel(name: string, { taskType: asked, ...given }: GetModelOptions = {}): Promise<ModelHandle> {
    if (this.#closing) throw shuttingDown();
    const configured = this.#configured.get(name);
    const taskType = asked ?? configured?.taskType ?? 'embedding';
    if (configured) checkTaskType(configured, taskType);
    await this.initialize();
    const load = parseLoadRequest(configured ? configuredLoad(configured, given) : given);
    let slot = await this.#scheduler.acquire(name, taskType, load, configured);
    // Released by force between its load and here: a handle needs a loaded model.
    while (slot.state !== 'ready') {
      this.#scheduler.leave(slot);
      slot = await this.#scheduler.acquire(name, taskType, load, configured);
    }
    const handle = handleOnSlot(name, taskType, slot, this.#scheduler);
    this.#scheduler.leave(slot);
    return handle;
  }

  /**
   * Frees a model now and forgets its config (seed 003), so the next request loads it afresh,
   * possibly with other workers or another device. When other getModel() references are still
   * held it only drops one of them (seed 001) unless `force` is set.
   * @returns true when the model was freed, false when it was not loaded or is still referenced.
   */
  async releaseModel(name: string, { force = false }: { force?: boolean } = {}): Promise<boolean> {
    return this.#scheduler.release(name, force);
  }

  /**
   * The embedding model configured as `name` (seed 001's get_embedding_model): a shared handle, as getModel() gives.
   * @throws MODEL_NOT_CONFIGURED, INVALID_MODEL_TYPE (configured for another task), and getModel()'s errors
   */
  async getEmbeddingModel(name = 'embedding', options: Omit<GetModelOptions, 'taskType'> = {}): Promise<ModelHandle> {
    this.#configured.require(name, 'embedding');
    return this.getModel(name, { ...options, taskType: 'embedding' });
  }

  /**
   * The text generation model configured as `name` (seed 001's get_text_generation_model; `text2text` models too).
   * @throws MODEL_NOT_CONFIGURED, INVALID_MODEL_TYPE (configured for another task), and getModel()'s errors
   */
  async getTextGenerationModel(name: string, options: Omit<GetModelOptions, 'taskType'> = {}): Promise<ModelHandle> {
    this.#configured.require(name, 'text_generation');
    return this.getModel(name, { ...options, taskType: 'text_generation' });
  }

  /** The settings of the model configured as `name` (seed 001's get_model_config). @throws MODEL_NOT_CONFIGURED */
  getModelConfig(name: string): ConfiguredModel {
    return structuredClone(this.#configured.require(name));
  }

  /** The model configured as `name`, or undefined when no model is configured under that name. */
  configuredModel(name: string): ConfiguredModel | undefined {
    const model = this.#configured.get(name);
    return model && structuredClone(model);
  }

  /** Every configured model. */
  configuredModels(): ConfiguredModel[] {
    return this.#configured.list().map((m) => structuredClone(m));
  }

  /**
   * Where a name would load from (a configured model's name stands for what its settings name),
   * with the registry entry of the model there, if any. @throws MODEL_NOT_FOUND with the places searched
   */
  locateModel(name: string): Promise<ResolvedModel> {
    return this.#scheduler.locate(name);
  }

  /** Embeds `texts` with the cache (seed 001); `modelId` defaults to the model configured as `embedding`. @throws ModelManagerError */
  async generateEmbeddings(texts: string[] | string, modelId = 'embedding'): Promise<{ embeddings: number[][]; cached: number; dimensions: number }> {
    const result = await this.task({ taskData: texts, taskType: 'embedding', modelName: modelId });
    if (!result.success) throw resultError(result.error);
    const { embeddings, cached, dimensions } = result.data as { embeddings: number[][]; cached: number; dimensions: number };
    return { embeddings, cached, dimensions };
  }

  /**
   * Loaded models, as `mm ps` lists them, with the requests in each: models still loading are left
   * out; models released while requests still run in them are listed as `unloading` until those end.
   */
  ps(): LoadedModelInfo[] {
    return [...this.#scheduler.slots().filter((s) => s.state === 'ready'), ...this.#scheduler.unloadingSlots()].map((s) => s.info());
  }

  /** Status of one model by the name it was asked for (or its registry id / path); undefined when not loaded. */
  getModelStatus(name: string): ModelStatus | undefined {
    const slots = this.#scheduler.slotsNamed(name);
    // A configured model and the model it names by path are two loads: the one asked for by this very name first.
    return (slots.find((s) => s.name === name) ?? slots[0])?.status();
  }

  /** The whole runtime: models (loading ones too), memory against the budget, queue depth, cache and counters. */
  getStatus(): ManagerStatus {
    const slots = [...this.#scheduler.slots(), ...this.#scheduler.unloadingSlots()];
    const gpus = this.#gpus.status((device) => this.#scheduler.gpuReserved(device));
    return {
      initialized: this.#initialized !== undefined,
      shuttingDown: this.#closing !== undefined,
      loaded: slots.filter((s) => s.state === 'ready').length,
      loading: slots.filter((s) => s.state === 'loading').length,
      queueDepth: slots.reduce((n, s) => n + s.awaitingLoad + (s.pool?.queued ?? 0), 0),
      memory: { budgetBytes: this.memoryBudgetBytes, usedBytes: slots.reduce((n, s) => n + s.sizeBytes, 0) },
      maxLoadedModels: this.maxLoadedModels,
      maxQueue: this.maxQueue,
      gpuCount: gpus.length === 0 ? null : Math.max(...gpus.map((g) => g.devices.length)),
      gpus,
      backends: this.#backends.names(),
      cache: this.cache.stats(),
      counters: { ...this.#scheduler.counters },
      models: slots.map((s) => s.status()),
    };
  }

  /**
   * Asks every backend which GPUs it can use, running llama.cpp's GPU check when this process has
   * not yet (loads ask only the model's own backend), and returns what `getStatus().gpus` shows.
   */
  async checkGpus(): Promise<GpuBackendStatus[]> {
    for (const backend of await this.#backends.all()) await this.#gpus.gpusOf(backend);
    return this.getStatus().gpus;
  }

  /** Frees every model, saves the embedding cache, and refuses new work; idempotent. */
  shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      await this.#scheduler.freeAll(shuttingDown());
      await this.#measurements.flush();
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

  /** Waits for registry writes still under way (throughput figures); call it before reading them. */
  async flushMeasurements(): Promise<void> {
    await this.#measurements.flush();
  }
}

