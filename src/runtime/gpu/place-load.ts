/**
 * Where a load goes, decided after its backend was picked: from the GPUs that backend can use
 * (an ONNX model never starts llama.cpp's GPU check), the device asked for and the workers.
 * Built-in backends on a GPU run in GPU worker processes, one GPU each; a user's backend runs
 * in the manager's process on the device it is given.
 */
import type { Device, InferenceBackend, WorkerSpec } from '../backends/backend.js';
import { describeAttempts, planDevice, type DeviceRequest } from '../devices.js';
import type { GpuDevices } from './gpu-devices.js';

export interface Placement {
  device: Device;
  workers: number;
  /** Set when the instances run in GPU worker processes: the GPU kind and one GPU per instance. */
  hosted?: { spec: WorkerSpec; kind: string; gpus: number[]; names: string[] };
  warning?: string;
}

export interface PlaceLoadOptions {
  requested: DeviceRequest;
  workers: number;
  backend: InferenceBackend;
  gpus: GpuDevices;
  /** GPU memory not yet reserved on a device, to spread a model's workers over the emptiest GPUs. */
  freeOn(device: Device): number;
}

export async function placeLoad({ requested, workers, backend, gpus, freeOn }: PlaceLoadOptions): Promise<Placement> {
  if (requested === 'cpu') return { device: 'cpu', workers };
  const found = await gpus.gpusOf(backend);
  const plan = planDevice(requested, workers, found.devices.length);
  if (plan.device === 'cpu') {
    const why = describeAttempts(found.attempts);
    return { device: 'cpu', workers: plan.workers, ...(plan.warning ? { warning: why ? `${plan.warning} (${backend.name}: ${why})` : plan.warning } : {}) };
  }
  const spec = backend.workerSpec?.();
  if (!spec || found.kind === false) return { device: plan.device, workers: plan.workers };
  const gpuIndexes = plan.device.startsWith('cuda:')
    ? [Number(plan.device.slice('cuda:'.length))]
    : found.devices.map((_, i) => i).sort((a, b) => freeOn(`cuda:${b}`) - freeOn(`cuda:${a}`) || a - b).slice(0, plan.workers);
  return {
    device: gpuIndexes.length === 1 ? `cuda:${gpuIndexes[0]!}` : 'gpu',
    workers: gpuIndexes.length,
    hosted: { spec, kind: found.kind, gpus: gpuIndexes, names: gpuIndexes.map((i) => found.devices[i]!) },
  };
}
