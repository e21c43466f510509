/**
 * What a server says of itself in the cluster: its machine (devices and memory) and what its
 * runtime has loaded, from the runtime's own reports.
 */
import { readFileSync } from 'node:fs';
import { cpus, freemem, platform, totalmem } from 'node:os';
import type { HostDevice, HostInfo, LoadedModelEntry } from './types.js';

/** The parts of the runtime a server's cluster entry reads (ModelManager has them). */
export interface RuntimeReport {
  ps(): readonly {
    name: string; model: string; backend: string; device: string; workers: number; sizeBytes: number; sizeVram: number;
    loadedAt: string; lastUsedAt: string; expiresAt: string | null;
  }[];
  getStatus(): { gpuCount?: number | null; memory?: { budgetBytes?: number } };
}

let version: string | undefined;

/** Model Manager's version, from its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** This machine now: its CPU, the GPUs the runtime found (once it looked), memory, and the runtime's budget. */
export function describeHost(runtime?: RuntimeReport): HostInfo {
  const cores = cpus();
  const devices: HostDevice[] = [{ kind: 'cpu', name: cores[0]?.model.trim() || 'cpu', cores: cores.length }];
  const status = runtime?.getStatus();
  for (let i = 0; i < (status?.gpuCount ?? 0); i++) devices.push({ kind: 'gpu', name: `gpu:${i}` });
  const info: HostInfo = { devices, memory: { totalBytes: totalmem(), freeBytes: freemem() }, platform: platform(), pid: process.pid };
  if (status?.memory?.budgetBytes !== undefined) info.memoryBudgetBytes = status.memory.budgetBytes;
  return info;
}

/** The models a runtime has loaded, as the cluster lists them. */
export function loadedModels(runtime: RuntimeReport): LoadedModelEntry[] {
  return runtime.ps().map((m) => ({
    name: m.name, model: m.model, backend: m.backend, device: m.device, workers: m.workers, sizeBytes: m.sizeBytes, sizeVram: m.sizeVram,
    loadedAt: m.loadedAt, lastUsedAt: m.lastUsedAt, expiresAt: m.expiresAt,
  }));
}
