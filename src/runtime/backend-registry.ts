/**
 * The backends a manager can use: the built-in ones, imported only when a model needs them
 * (so a missing native package costs nothing until then), and any the user registers.
 */
import type { LlamaGpuSetting } from '../config.js';
import { ModelManagerError } from '../errors.js';
import type { InferenceBackend, ModelLocation, TaskType } from './backends/backend.js';

/** Settings of the built-in backends that a manager passes on. */
export interface BuiltinBackendSettings {
  /** llama.cpp's GPU kind (`MM_LLAMA_GPU`). Defaults to `config().llamaGpu`. */
  llamaGpu?: LlamaGpuSetting;
}

/** Built-in backends by name, each imported on first use. */
export const BUILTIN_BACKENDS = {
  transformers: { formats: ['onnx'], load: async () => new (await import('./backends/transformers.js')).TransformersBackend() },
  'llama-cpp': {
    formats: ['gguf'],
    load: async ({ llamaGpu }: BuiltinBackendSettings) => new (await import('./backends/llama-cpp.js')).LlamaCppBackend(llamaGpu === undefined ? {} : { gpu: llamaGpu }),
  },
} as const satisfies Record<string, { formats: readonly string[]; load: (settings: BuiltinBackendSettings) => Promise<InferenceBackend> }>;

export type BuiltinBackendName = keyof typeof BUILTIN_BACKENDS;

export class BackendRegistry {
  readonly #custom: InferenceBackend[] = [];
  readonly #builtin = new Map<BuiltinBackendName, Promise<InferenceBackend>>();
  readonly #settings: BuiltinBackendSettings;

  constructor(settings: BuiltinBackendSettings = {}) {
    this.#settings = settings;
  }

  /** Adds a backend; it is asked before the built-in ones, the last registered first. */
  register(backend: InferenceBackend): void {
    const existing = this.#custom.findIndex((b) => b.name === backend.name);
    if (existing >= 0) this.#custom.splice(existing, 1);
    this.#custom.unshift(backend);
  }

  /** Names of the registered and built-in backends. */
  names(): string[] {
    return [...this.#custom.map((b) => b.name), ...Object.keys(BUILTIN_BACKENDS)];
  }

  /** True when some backend (registered, or built in) serves `taskType`. */
  servesTask(taskType: TaskType): boolean {
    return this.#custom.some((b) => b.tasks.includes(taskType)) || taskType === 'embedding' || taskType === 'text_generation';
  }

  /**
   * The backend that will load `location` for `taskType`.
   * @throws UNSUPPORTED_TASK when no backend serves the task, BACKEND_MISSING when none can load the model.
   */
  async pick(location: ModelLocation, taskType: TaskType): Promise<InferenceBackend> {
    if (!this.servesTask(taskType)) {
      throw new ModelManagerError('UNSUPPORTED_TASK', `task type "${taskType}" is not supported: use embedding or text_generation, or register a backend for it`, {
        details: { taskType, backends: this.names() },
      });
    }
    for (const backend of this.#custom) {
      if (backend.tasks.includes(taskType) && (await backend.supports(location))) return backend;
    }
    const failures: Record<string, string> = {};
    for (const [name, entry] of Object.entries(BUILTIN_BACKENDS) as [BuiltinBackendName, (typeof BUILTIN_BACKENDS)[BuiltinBackendName]][]) {
      if (location.format && !(entry.formats as readonly string[]).includes(location.format)) continue;
      let backend: InferenceBackend;
      try {
        backend = await this.#loadBuiltin(name);
      } catch (error) {
        failures[name] = error instanceof Error ? error.message : String(error);
        continue;
      }
      if (backend.tasks.includes(taskType) && (await backend.supports(location))) return backend;
    }
    const format = location.format ?? 'unknown';
    const hint = Object.keys(failures).length > 0
      ? `the ${Object.keys(failures).join(', ')} backend could not be loaded (${Object.values(failures).join('; ')}): reinstall the package`
      : `no backend runs ${format} models for ${taskType}: convert it to GGUF or ONNX, or register a backend`;
    throw new ModelManagerError('BACKEND_MISSING', `cannot run ${location.path}: ${hint}`, {
      details: { path: location.path, format, taskType, failures },
    });
  }

  /** The registered backends, then the built-in ones that could be imported. */
  async all(): Promise<InferenceBackend[]> {
    const builtin = await Promise.allSettled((Object.keys(BUILTIN_BACKENDS) as BuiltinBackendName[]).map((name) => this.#loadBuiltin(name)));
    return [...this.#custom, ...builtin.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
  }

  #loadBuiltin(name: BuiltinBackendName): Promise<InferenceBackend> {
    let loading = this.#builtin.get(name);
    if (!loading) {
      loading = BUILTIN_BACKENDS[name].load(this.#settings);
      // A failed import is retried next time (the package may be installed meanwhile).
      loading.catch(() => this.#builtin.delete(name));
      this.#builtin.set(name, loading);
    }
    return loading;
  }
}
