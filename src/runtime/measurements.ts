/**
 * Writes what the runtime measured into the registry entry of a registered model (`measured`,
 * beside the estimate): load time, memory and device at load, throughput once a task ran, and on
 * a GPU the device's used memory before the load, after it and after the release.
 * A failed write is a warning, never a failed request.
 */
import type { Registry } from '../registry/registry.js';
import type { ModelSlot } from './model-slot.js';

export class MeasurementRecorder {
  readonly #registry: Registry | undefined;
  readonly #onWarning: (message: string) => void;
  readonly #pending = new Set<Promise<unknown>>();
  /** The throughput a load recorded, kept so that a later write (the release) does not drop it. */
  readonly #throughput = new WeakMap<ModelSlot, { throughput: number; throughputUnit: string }>();

  constructor(registry: Registry | undefined, onWarning: (message: string) => void) {
    this.#registry = registry;
    this.#onWarning = onWarning;
  }

  /** Records a finished load; awaited, so the entry is current once the model serves. */
  async recordLoad(slot: ModelSlot): Promise<void> {
    await this.#write(slot);
  }

  /** Records the first throughput figure of a load, in the background. */
  recordThroughput(slot: ModelSlot, throughput: { value: number; unit: string }): void {
    if (this.#throughput.has(slot) || !slot.location.model) return;
    this.#throughput.set(slot, { throughput: throughput.value, throughputUnit: throughput.unit });
    this.#background(this.#write(slot));
  }

  /** Records the GPU memory after a release (the slot's `vramMeasures`), in the background. */
  recordRelease(slot: ModelSlot): void {
    this.#background(this.#write(slot));
  }

  #background(write: Promise<void>): void {
    const tracked = write.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  /** Waits for background writes. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async #write(slot: ModelSlot): Promise<void> {
    const modelId = slot.location.model?.modelId;
    if (!this.#registry || !modelId) return;
    try {
      await this.#registry.recordMeasured(modelId, {
        loadTimeMs: slot.loadTimeMs,
        memoryBytes: slot.memoryBytes,
        ...this.#throughput.get(slot),
        device: slot.config.device,
        ...(slot.gpuKind ? { gpuKind: slot.gpuKind } : {}),
        ...(slot.vramMeasures.length > 0 ? { vram: slot.vramMeasures } : {}),
        ...(slot.backend ? { backend: slot.backend.name } : {}),
        at: new Date().toISOString(),
      });
    } catch (error) {
      this.#onWarning(`could not record measurements of ${modelId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
