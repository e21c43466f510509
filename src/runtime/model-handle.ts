/**
 * What getModel() hands out: a reference to a shared loaded model. While any handle is held the
 * model stays loaded; releasing the last one starts its keep-alive timer.
 */
import { ModelManagerError } from '../errors.js';
import type { Device, EmbeddingParams, GenerationOutput, GenerationParams, TaskType } from './backends/backend.js';
import type { ModelSlot } from './model-slot.js';
import type { Scheduler } from './scheduler.js';
import { generationParams } from './task-input.js';
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

/**
 * A handle on a ready slot the caller has acquired: it takes one reference, and each call goes
 * through the scheduler (so the model counts as in use) and the slot's worker pool.
 */
export function handleOnSlot(name: string, taskType: TaskType, slot: ModelSlot, scheduler: Scheduler): ModelHandle {
  slot.addRef();
  const pool = slot.pool!;
  const info: ModelHandleInfo = {
    name, model: slot.location.key, taskType, backend: slot.backend?.name ?? '', device: slot.config.device,
    workers: pool.instances.length, dimensions: pool.instances[0]?.dimensions,
  };
  return new ModelHandle(info, {
    embed: (texts, params) => scheduler.use(slot, () => pool.embed(texts, params)),
    generate: async (prompt, { onToken, signal, ...params }) => {
      // The same limits as task(): a handle is no way around the token cap.
      const checked: GenerationParams = { ...generationParams(params), ...(onToken ? { onToken } : {}), ...(signal ? { signal } : {}) };
      return scheduler.use(slot, () => pool.run((m) => {
        if (!m.generate) throw new ModelManagerError('UNSUPPORTED_TASK', `${m.backend} loaded "${name}" without text generation`);
        return m.generate(prompt, checked);
      }, signal ? { signal } : {}));
    },
    run: (data, params) => scheduler.use(slot, () => pool.run((m) => {
      if (!m.run) throw new ModelManagerError('UNSUPPORTED_TASK', `${m.backend} has no custom task "${taskType}"`);
      return m.run(taskType, data, params);
    })),
    // ModelHandle calls this once however often it is released.
    release: () => {
      slot.dropRef();
      scheduler.afterUse(slot);
    },
  });
}
