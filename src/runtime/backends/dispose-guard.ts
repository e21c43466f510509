/**
 * The guard every loaded instance keeps (node-llama-cpp's `_ensureNotDisposed()`): once disposed,
 * each of its methods refuses with MODEL_DISPOSED instead of reaching freed native memory or a
 * worker that no longer holds it, and `dispose()` frees only once.
 */
import { ModelManagerError } from '../../errors.js';

export class DisposeGuard {
  readonly #backend: string;
  #disposed = false;

  /** `backend` names the instance's backend in the error. */
  constructor(backend: string) {
    this.#backend = backend;
  }

  /** @throws MODEL_DISPOSED once the instance is disposed */
  ensureNotDisposed(): void {
    if (!this.#disposed) return;
    throw new ModelManagerError('MODEL_DISPOSED', `this ${this.#backend} instance was disposed (its model was freed): send the request again to load the model anew`, {
      details: { backend: this.#backend },
    });
  }

  /** Marks the instance disposed. @returns true the first time only, so that dispose() frees once */
  dispose(): boolean {
    if (this.#disposed) return false;
    this.#disposed = true;
    return true;
  }
}
