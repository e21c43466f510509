/**
 * What a server says of itself in the cluster: its machine (devices and memory) and what its
 * runtime has loaded, from the runtime's own reports.
 */
import { readFileSync } from 'node:fs';
import { cpus, freemem, platform, totalmem } from 'node:os';
import type { HostDevice, HostInfo, LoadedModelEntry } from './types.js';

/** The parts of the runtime a server's cluster entry reads (ModelManager has them). */
export interface RuntimeReport {
  ps(): readonly LoadedModelEntry[];
  getStatus(): {
    gpuCount?: number | null;
    memory?: { budgetBytes?: number };
    /** What each backend found of its GPUs (one GPU may be seen by several backends). */
    gpus?: readonly { kind: string | false; devices: readonly { device: string; name: string; vram: { totalBytes: number } | null }[] }[];
  };
}

let version: string | undefined;

/** Model Manager's version, from its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** The GPUs the runtime found (once a load looked), each once, else as many as it counted. */
function gpuDevices(status: ReturnType<RuntimeReport['getStatus']> | undefined): HostDevice[] {
  const found = new Map<string, HostDevice>();
  for (const backend of status?.gpus ?? []) {
    if (backend.kind === false) continue;
    for (const d of backend.devices) {
      const key = `${backend.kind} ${d.device}`;
      if (found.has(key)) continue;
      found.set(key, { kind: 'gpu', name: d.name, device: d.device, gpuKind: backend.kind, ...(d.vram ? { memoryBytes: d.vram.totalBytes } : {}) });
    }
  }
  if (found.size > 0) return [...found.values()];
  return Array.from({ length: status?.gpuCount ?? 0 }, (_, i) => ({ kind: 'gpu', name: `gpu:${i}` }));
}

/** This machine now: its CPU, the GPUs the runtime found (once it looked), memory, and the runtime's budget. */
export function describeHost(runtime?: RuntimeReport): HostInfo {
  const cores = cpus();
  const status = runtime?.getStatus();
  const devices: HostDevice[] = [{ kind: 'cpu', name: cores[0]?.model.trim() || 'cpu', cores: cores.length }, ...gpuDevices(status)];
  const info: HostInfo = { devices, memory: { totalBytes: totalmem(), freeBytes: freemem() }, platform: platform(), pid: process.pid };
  if (status?.memory?.budgetBytes !== undefined) info.memoryBudgetBytes = status.memory.budgetBytes;
  return info;
}

/** The models a runtime has loaded, as the cluster lists them. */
export function loadedModels(runtime: RuntimeReport): LoadedModelEntry[] {
  return runtime.ps().map((m) => ({
    name: m.name, model: m.model, state: m.state, backend: m.backend, device: m.device, ...(m.gpuKind ? { gpuKind: m.gpuKind } : {}),
    workers: m.workers, sizeBytes: m.sizeBytes, sizeVram: m.sizeVram, queue: m.queue, running: m.running,
    tasks: m.tasks.map((t) => ({ taskType: t.taskType, state: t.state, since: t.since, ...(t.maxTokens === undefined ? {} : { maxTokens: t.maxTokens }) })),
    loadedAt: m.loadedAt, lastUsedAt: m.lastUsedAt, expiresAt: m.expiresAt,
  }));
}
