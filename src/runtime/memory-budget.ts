/**
 * Room for one more model: what a load needs, and which idle models to evict (least recently
 * used first) so that it fits a memory budget (RAM, or one GPU's) and the loaded-model limit, or
 * OUT_OF_MEMORY when nothing idle is left to evict.
 */
import { ModelManagerError } from '../errors.js';
import { formatBytes } from '../units.js';
import type { Device, InferenceBackend, MemoryNeed } from './backends/backend.js';
import { weightBytes, type ResolvedModel } from './resolve-model.js';

export interface BudgetedModel {
  readonly name: string;
  /** Bytes it holds (or has reserved while loading). */
  readonly sizeBytes: number;
  /** Evictable: loaded, unreferenced, nothing running or waiting. */
  readonly idle: boolean;
  /** Larger = used more recently. */
  readonly lastUse: number;
}

export interface BudgetLimits {
  budgetBytes: number;
  maxLoadedModels: number;
  /** The memory the budget is of, when not the machine's RAM: a GPU, named in OUT_OF_MEMORY. */
  device?: { name: string; hint: string };
}

/**
 * The models to evict before loading `name` (`bytes`) next to `loaded`.
 * @throws OUT_OF_MEMORY when evicting every idle model is still not enough
 */
export function chooseEvictions<T extends BudgetedModel>(loaded: readonly T[], name: string, bytes: number, { budgetBytes, maxLoadedModels, device }: BudgetLimits): T[] {
  const idle = loaded.filter((m) => m.idle).sort((a, b) => a.lastUse - b.lastUse);
  const victims: T[] = [];
  let used = loaded.reduce((n, m) => n + m.sizeBytes, 0);
  let count = loaded.length;
  while (used + bytes > budgetBytes || count >= maxLoadedModels) {
    const victim = idle.shift();
    if (!victim) {
      const tooMany = count >= maxLoadedModels;
      const free = formatBytes(Math.max(0, budgetBytes - used));
      throw new ModelManagerError(
        'OUT_OF_MEMORY',
        tooMany
          ? `cannot load "${name}": ${maxLoadedModels} model(s) are loaded and in use; release one (mm release) or raise maxLoadedModels`
          : device
            ? `cannot load "${name}" on ${device.name}: it needs about ${formatBytes(bytes)} of GPU memory and only ${free} of the device's ${formatBytes(budgetBytes)} budget are free; ${device.hint}`
            : `cannot load "${name}": it needs about ${formatBytes(bytes)} and only ${free} of the ${formatBytes(budgetBytes)} budget are free; release a model or raise memoryBudgetBytes`,
        { details: { modelName: name, neededBytes: bytes, budgetBytes, usedBytes: used, loaded: count, maxLoadedModels, ...(device ? { device: device.name } : {}) } },
      );
    }
    victims.push(victim);
    used -= victim.sizeBytes;
    count -= 1;
  }
  return victims;
}

/** RAM and GPU memory one instance needs on `device`: the backend's estimate, else the registry's or the files' size (as RAM). */
export async function estimateNeed(backend: InferenceBackend, location: ResolvedModel, device: Device): Promise<MemoryNeed> {
  const need = await backend.estimateMemory?.(location, device).catch(() => undefined);
  if (need) return need;
  const bytes = (await backend.estimateBytes?.(location, device).catch(() => undefined))
    ?? location.model?.memoryEstimate?.totalBytes
    ?? (await weightBytes(location.path));
  return { ramBytes: bytes, vramBytes: 0 };
}
