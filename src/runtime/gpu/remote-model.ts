/**
 * An instance hosted by a GPU worker process, seen from the manager like every other loaded model: the
 * manager's queue, batching and embedding cache stay in the manager's process, and each call
 * crosses to the worker.
 */
import type { ModelMetadata } from '../../registry/schema.js';
import type { Device, EmbeddingParams, GenerationOutput, GenerationParams, LoadedModel, TaskType } from '../backends/backend.js';
import { DisposeGuard } from '../backends/dispose-guard.js';
import type { GpuWorker } from './gpu-worker.js';
import type { LoadedInfo } from './gpu-worker-protocol.js';

export class RemoteModel implements LoadedModel {
  readonly backend: string;
  readonly device: Device;
  readonly gpuKind: string | undefined;
  readonly warning: string | undefined;
  readonly memoryBytes: number | undefined;
  readonly vramBytes: number | undefined;
  readonly dimensions: number | undefined;
  /** Present when the instance in the worker can count tokens. */
  readonly countTokens?: (texts: readonly string[]) => Promise<number[]>;
  readonly worker: GpuWorker;
  readonly #instance: number;
  readonly #guard: DisposeGuard;

  private constructor(worker: GpuWorker, info: LoadedInfo) {
    this.worker = worker;
    this.backend = worker.backend;
    this.#instance = info.instance;
    this.#guard = new DisposeGuard(worker.backend);
    this.device = info.device === 'cpu' ? 'cpu' : worker.device;
    this.gpuKind = info.gpuKind;
    this.warning = info.warning;
    this.memoryBytes = info.memoryBytes;
    this.vramBytes = info.vramBytes;
    this.dimensions = info.dimensions;
    if (info.countsTokens) {
      this.countTokens = async (texts) => {
        this.#guard.ensureNotDisposed();
        return this.worker.call({ op: 'countTokens', instance: this.#instance, texts });
      };
    }
  }

  /** Loads one instance of the model in `worker`. */
  static async load(worker: GpuWorker, { path, taskType, model }: { path: string; taskType: TaskType; model?: ModelMetadata }): Promise<RemoteModel> {
    const info = await worker.call({ op: 'load', path, taskType, ...(model ? { model } : {}) });
    return new RemoteModel(worker, info);
  }

  async embed(texts: readonly string[], params: EmbeddingParams): Promise<number[][]> {
    this.#guard.ensureNotDisposed();
    return this.worker.call({ op: 'embed', instance: this.#instance, texts, params });
  }

  async generate(prompt: string, { onToken, signal, ...params }: GenerationParams): Promise<GenerationOutput> {
    this.#guard.ensureNotDisposed();
    return this.worker.call(
      { op: 'generate', instance: this.#instance, prompt, params, stream: onToken !== undefined },
      { ...(onToken ? { onToken } : {}), ...(signal ? { signal } : {}) },
    );
  }

  /** Frees the instance in the worker; nothing to free once the worker has ended. */
  async dispose(): Promise<void> {
    if (!this.#guard.dispose()) return;
    if (this.worker.alive) await this.worker.call({ op: 'dispose', instance: this.#instance }).catch(() => undefined);
  }
}
