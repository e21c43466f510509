/**
 * Writes what the runtime measured into the registry entry of a registered model (`measured`,
 * beside the estimate): load time, memory and device at load, throughput once a task ran.
 * A failed write is a warning, never a failed request.
 */
import type { Registry } from '../registry/registry.js';
import type { ModelSlot } from './model-slot.js';

export class MeasurementRecorder {
  readonly #registry: Registry | undefined;
  readonly #onWarning: (message: string) => void;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(registry: Registry | undefined, onWarning: (message: string) => void) {
    this.#registry = registry;
    this.#onWarning = onWarning;
  }

  /** Records a finished load; awaited, so the entry is current once the model serves. */
  async recordLoad(slot: ModelSlot): Promise<void> {
    await this.#write(slot, {});
  }

  /** Records the first throughput figure of a load, in the background. */
  recordThroughput(slot: ModelSlot, throughput: { value: number; unit: string }): void {
    if (slot.throughputRecorded || !slot.location.model) return;
    slot.throughputRecorded = true;
    const write = this.#write(slot, { throughput: throughput.value, throughputUnit: throughput.unit }).finally(() => this.#pending.delete(write));
    this.#pending.add(write);
  }

  /** Waits for background writes. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async #write(slot: ModelSlot, extra: { throughput?: number; throughputUnit?: string }): Promise<void> {
    const modelId = slot.location.model?.modelId;
    if (!this.#registry || !modelId) return;
    try {
      await this.#registry.recordMeasured(modelId, {
        loadTimeMs: slot.loadTimeMs,
        memoryBytes: slot.memoryBytes,
        ...extra,
        device: slot.config.device,
        ...(slot.backend ? { backend: slot.backend.name } : {}),
        at: new Date().toISOString(),
      });
    } catch (error) {
      this.#onWarning(`could not record measurements of ${modelId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
