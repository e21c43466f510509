/**
 * What getModel() hands out: a reference to a shared loaded model. While any handle is held the
 * model stays loaded; releasing the last one starts its keep-alive timer.
 */
import { ModelManagerError } from '../errors.js';
import type { Device, EmbeddingParams, GenerationOutput, GenerationParams, TaskType } from './backends/backend.js';
import type { LoadedModelInfo } from './types.js';

export interface ModelHandleTarget {
  embed(texts: readonly string[], params: EmbeddingParams): Promise<number[][]>;
  generate(prompt: string, params: GenerationParams): Promise<GenerationOutput>;
  run(data: unknown, params: Record<string, unknown>): Promise<unknown>;
  release(): void;
}

/** What a handle tells about the model it holds. */
export type ModelHandleInfo = Pick<LoadedModelInfo, 'name' | 'model' | 'taskType' | 'backend' | 'device' | 'workers'> & {
  dimensions: number | undefined;
};

export class ModelHandle implements AsyncDisposable, ModelHandleInfo {
  readonly name: string;
  /** Identity of the model: registry id, else absolute path. */
  readonly model: string;
  readonly taskType: TaskType;
  readonly backend: string;
  readonly device: Device;
  readonly workers: number;
  readonly dimensions: number | undefined;
  readonly #target: ModelHandleTarget;
  #released = false;

  /** @internal Handles come from ModelManager.getModel(). */
  constructor(info: ModelHandleInfo, target: ModelHandleTarget) {
    this.name = info.name;
    this.model = info.model;
    this.taskType = info.taskType;
    this.backend = info.backend;
    this.device = info.device;
    this.workers = info.workers;
    this.dimensions = info.dimensions;
    this.#target = target;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Embeds through the manager's queue and batching (no cache: use task() or generateEmbeddings for that). */
  embed(texts: readonly string[], params: EmbeddingParams = {}): Promise<number[][]> {
    this.#check();
    return this.#target.embed(texts, params);
  }

  generate(prompt: string, params: GenerationParams = {}): Promise<GenerationOutput> {
    this.#check();
    return this.#target.generate(prompt, params);
  }

  /** Runs a custom task type of a user backend. */
  run(data: unknown, params: Record<string, unknown> = {}): Promise<unknown> {
    this.#check();
    return this.#target.run(data, params);
  }

  /** Gives the reference back; idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#target.release();
  }

  #check(): void {
    if (this.#released) {
      throw new ModelManagerError('INVALID_ARGUMENT', `this handle of "${this.name}" was released: call getModel() again`, { details: { modelName: this.name } });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}
