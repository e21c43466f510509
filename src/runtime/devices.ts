/**
 * Device choice: what the caller asked for (cpu, gpu, cuda:N, auto) against the GPUs the
 * model's backend can use, with a fall back to CPU and a warning instead of a failed load.
 */
import { ModelManagerError } from '../errors.js';
import type { Device, GpuAttempt } from './backends/backend.js';

/** What a request may ask for. */
export type DeviceRequest = 'cpu' | 'gpu' | 'auto' | `cuda:${number}`;

export interface DevicePlan {
  device: Device;
  /** Instances to start: on GPUs capped by the GPUs found (seed 003), on CPU as asked. */
  workers: number;
  warning?: string;
}

/** Checks a device string from outside (HTTP, CLI). @throws INVALID_ARGUMENT */
export function parseDevice(value: string): DeviceRequest {
  const v = value.trim().toLowerCase();
  if (v === 'cpu' || v === 'gpu' || v === 'auto' || /^cuda:\d+$/.test(v)) return v as DeviceRequest;
  throw new ModelManagerError('INVALID_ARGUMENT', `device "${value}" is not valid: use cpu, gpu, cuda:N or auto`, { details: { device: value } });
}

/** Why GPU kinds were not used, one `kind: reason` per failed attempt. */
export function describeAttempts(attempts: readonly GpuAttempt[]): string {
  return attempts.filter((a) => !a.ok).map((a) => `${a.kind}: ${a.reason ?? 'failed'}`).join('; ');
}

/** Picks the device and worker count for a load. */
export function planDevice(requested: DeviceRequest, workers: number, gpuCount: number): DevicePlan {
  if (requested === 'cpu') return { device: 'cpu', workers };
  if (gpuCount === 0) {
    const plan: DevicePlan = { device: 'cpu', workers };
    if (requested !== 'auto') plan.warning = `device "${requested}" asked for, but no GPU was found: running on CPU`;
    return plan;
  }
  if (requested === 'gpu' || requested === 'auto') return { device: 'gpu', workers: Math.min(workers, gpuCount) };
  const index = Number(requested.slice('cuda:'.length));
  if (index >= gpuCount) {
    return { device: 'cpu', workers, warning: `device "${requested}" asked for, but only ${gpuCount} GPU(s) were found: running on CPU` };
  }
  return { device: requested, workers: 1 };
}
