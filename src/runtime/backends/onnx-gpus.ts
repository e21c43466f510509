/**
 * The GPUs the `transformers` backend can use: onnxruntime-node's CUDA execution provider (a
 * library its installer adds only when asked, `--onnxruntime-node-install=cuda12`) and the NVIDIA
 * GPUs the driver lists. Found from files alone: neither onnxruntime nor node-llama-cpp is
 * imported, so asking costs nothing on a machine without them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import type { BackendGpus } from './backend.js';

const PROVIDER = 'libonnxruntime_providers_cuda.so';
const NVIDIA_GPUS = '/proc/driver/nvidia/gpus';
export const ONNX_CUDA_INSTALL = 'npm install onnxruntime-node --onnxruntime-node-install=cuda12';

/** The CUDA provider library of the onnxruntime-node that transformers.js loads, when installed. */
export function onnxCudaProvider(): string | undefined {
  try {
    const fromTransformers = createRequire(import.meta.resolve('@huggingface/transformers'));
    const root = dirname(dirname(fromTransformers.resolve('onnxruntime-node')));
    const bin = join(root, 'bin');
    for (const napi of readdirSync(bin)) {
      const folder = join(bin, napi, platform(), arch());
      if (readdirSync(folder).includes(PROVIDER)) return join(folder, PROVIDER);
    }
  } catch {
    // not installed, or a layout without the provider
  }
  return undefined;
}

/** NVIDIA GPUs by PCI order (CUDA's order for identical GPUs), as `CUDA_VISIBLE_DEVICES` narrows them. */
export function nvidiaGpus(env: NodeJS.ProcessEnv = process.env): string[] {
  let names: string[];
  try {
    names = readdirSync(NVIDIA_GPUS).sort().map((bus) => {
      const model = /^Model:\s*(.+)$/m.exec(readFileSync(join(NVIDIA_GPUS, bus, 'information'), 'utf8'))?.[1];
      return model?.trim() ?? `NVIDIA GPU ${bus}`;
    });
  } catch {
    return [];
  }
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible === undefined) return names;
  return visible.split(',').map((v) => names[Number(v.trim())]).filter((n): n is string => n !== undefined);
}

/** What onnxruntime can compute on here. */
export function onnxGpus(): BackendGpus {
  if (platform() !== 'linux' || arch() !== 'x64') {
    return { kind: false, devices: [], attempts: [{ kind: 'cuda', ok: false, reason: `onnxruntime-node has a CUDA provider only on Linux x64, not ${platform()}-${arch()}` }] };
  }
  if (!onnxCudaProvider()) {
    return { kind: false, devices: [], attempts: [{ kind: 'cuda', ok: false, reason: `onnxruntime-node has no CUDA provider installed: ${ONNX_CUDA_INSTALL}` }] };
  }
  const devices = nvidiaGpus();
  if (devices.length === 0) return { kind: false, devices, attempts: [{ kind: 'cuda', ok: false, reason: `the CUDA provider is installed but no NVIDIA GPU is listed in ${NVIDIA_GPUS}` }] };
  return { kind: 'cuda', devices, attempts: [{ kind: 'cuda', ok: true }] };
}
