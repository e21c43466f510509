/**
 * The GPU side of the scheduler's loads: each GPU's memory budget (idle models on that GPU are
 * evicted first), instances loaded in the GPU workers with the device's used memory measured
 * around them, and that memory measured again after a release.
 */
import type { Device, LoadedModel } from '../backends/backend.js';
import { chooseEvictions } from '../memory-budget.js';
import type { ModelSlot } from '../model-slot.js';
import type { GpuDevices } from './gpu-devices.js';
import type { GpuWorker } from './gpu-worker.js';
import type { Placement } from './place-load.js';
import { RemoteModel } from './remote-model.js';

export interface GpuLoadsOptions {
  gpus: GpuDevices;
  /** The scheduler's slots (loaded and loading). */
  slots(): Iterable<ModelSlot>;
  /** Takes the victims out of the books at once (before returning) and resolves once they are freed. */
  evict(victims: ModelSlot[]): Promise<void>;
}

export class GpuLoads {
  readonly #options: GpuLoadsOptions;

  constructor(options: GpuLoadsOptions) {
    this.#options = options;
  }

  /** GPU memory reserved on `device` by the slots. */
  reservedOn(device: Device): number {
    let total = 0;
    for (const slot of this.#options.slots()) total += slot.vramOn(device) ?? 0;
    return total;
  }

  /** GPU memory of `device` not reserved (before any worker reported the device's size: minus what is reserved). */
  freeOn(device: Device): number {
    return (this.#options.gpus.budgetOn(device) ?? 0) - this.reservedOn(device);
  }

  /** The workers of a hosted load, each GPU's budget checked (evicting idle models on it) before anything loads. */
  async startWorkers(slot: ModelSlot, { hosted }: Placement, vramBytes: number): Promise<GpuWorker[]> {
    const workers: GpuWorker[] = [];
    for (const [i, index] of hosted?.gpus.entries() ?? []) {
      const worker = await this.#options.gpus.worker(hosted!.spec, hosted!.kind, index, hosted!.names[i]);
      await this.#makeRoom(slot, worker, vramBytes);
      workers.push(worker);
    }
    return workers;
  }

  /** Loads one instance in a GPU worker, measuring the device's used memory around it. */
  async loadOn(slot: ModelSlot, worker: GpuWorker): Promise<LoadedModel> {
    const before = await this.#options.gpus.memoryOf(worker);
    const { path, model } = slot.location;
    const instance = await RemoteModel.load(worker, { path, taskType: slot.config.taskType, ...(model ? { model } : {}) });
    const after = await this.#options.gpus.memoryOf(worker);
    if (before && after) {
      slot.measuredVram({ device: worker.device, deviceName: worker.deviceName, totalBytes: after.totalBytes, beforeLoadBytes: before.usedBytes, afterLoadBytes: after.usedBytes });
    }
    return instance;
  }

  /**
   * After a freed slot's instances are disposed: the used memory of each device its `workers` (as
   * `workersOf` gave them before the release) are on, beside its level before the load. @returns true when measured
   */
  async measureRelease(slot: ModelSlot, workers: readonly GpuWorker[]): Promise<boolean> {
    let measured = false;
    for (const worker of new Set(workers)) {
      if (!worker.alive) continue;
      const after = await this.#options.gpus.memoryOf(worker).catch(() => null);
      if (after && slot.measuredRelease(worker.device, after.usedBytes)) measured = true;
    }
    return measured;
  }

  /** The slots with an instance in `worker`. */
  slotsIn(worker: GpuWorker): ModelSlot[] {
    return [...this.#options.slots()].filter((slot) => this.workersOf(slot).includes(worker));
  }

  /** The GPU workers holding a slot's instances. */
  workersOf(slot: ModelSlot): GpuWorker[] {
    return slot.pool?.instances.filter((m): m is RemoteModel => m instanceof RemoteModel).map((m) => m.worker) ?? [];
  }

  /**
   * Reserves `bytes` of GPU memory for `slot` on the worker's device, evicting idle models on that
   * device (least recently used first) when needed. A backend that reports no device memory
   * (onnxruntime) has no GPU budget. @throws OUT_OF_MEMORY naming the device
   */
  async #makeRoom(slot: ModelSlot, worker: GpuWorker, bytes: number): Promise<void> {
    const memory = await this.#options.gpus.memoryOf(worker);
    const device = worker.device;
    let victims: ModelSlot[] = [];
    if (memory) {
      const onDevice = [...this.#options.slots()].filter((s) => s !== slot && s.vramOn(device) !== undefined);
      const views = onDevice.map((s) => ({ slot: s, name: s.name, sizeBytes: s.vramOn(device)!, idle: s.idle, lastUse: s.lastUse }));
      victims = chooseEvictions(views, slot.name, bytes, {
        budgetBytes: this.#options.gpus.budgetOf(memory.totalBytes),
        maxLoadedModels: Infinity,
        device: { name: `${device} (${worker.deviceName})`, hint: 'release a model on it, raise gpuMemoryFraction, or load on another device' },
      }).map((v) => v.slot);
    }
    // Reserved and evicted in the same turn, so a concurrent load sees the device as it will be.
    slot.reserveVram(device, bytes);
    await this.#options.evict(victims);
  }
}
