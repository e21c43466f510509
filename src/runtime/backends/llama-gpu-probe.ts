/**
 * Child-process entry of the llama.cpp GPU check (see llama-gpu-check.ts): loads node-llama-cpp's
 * prebuilt binary of one GPU kind, lists the devices it sees, and decodes a token of a generated
 * tiny llama on them. A GPU whose kernels cannot run (a driver older than the binary's toolchain,
 * an architecture the binary has no code for) aborts the process inside llama.cpp, so this never
 * runs in the caller's process.
 *
 * Usage: node llama-gpu-probe.js <cuda|vulkan|metal>. Prints one JSON line, a `ProbeAnswer`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { writeTestModel } from '../../testmodels/index.js';

export type ProbeAnswer =
  | { ok: true; gpu: string; devices: string[]; vram: { total: number; used: number } }
  | { ok: false; reason: string };

/** node-llama-cpp says why a prebuilt binary was refused only on the console: keep those lines. */
const said: string[] = [];
for (const level of ['warn', 'error'] as const) {
  console[level] = (...args: unknown[]) => said.push(format(...args).replace(/^\[node-llama-cpp\]\s*/, '').trim());
}

function answer(result: ProbeAnswer): never {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** What a prebuilt binary of each kind needs from the machine, said when node-llama-cpp refuses it. */
const NEEDS: Record<string, string> = {
  cuda: 'it needs the NVIDIA driver and the CUDA runtime libraries it was built with',
  vulkan: 'it needs the Vulkan loader (libvulkan.so.1) and a Vulkan driver with a device',
  metal: 'it needs macOS on Apple silicon',
};

const kind = process.argv[2];
if (kind !== 'cuda' && kind !== 'vulkan' && kind !== 'metal') answer({ ok: false, reason: `unknown GPU kind "${kind}"` });

let llama: Llama;
try {
  llama = await getLlama({
    gpu: kind, build: 'never', skipDownload: true, progressLogs: true, logLevel: LlamaLogLevel.error,
    logger: (level, message) => {
      if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) said.push(message.trim());
    },
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  answer({ ok: false, reason: [...said, message, NEEDS[kind]].filter(Boolean).join('; ') });
}
if (llama.gpu !== kind) answer({ ok: false, reason: `node-llama-cpp loaded ${llama.gpu === false ? 'its CPU binary' : llama.gpu} instead` });
const devices = await llama.getGpuDeviceNames();
if (devices.length === 0) {
  answer({ ok: false, reason: `the ${kind} binary loaded but sees no GPU device${kind === 'vulkan' ? ' (llama.cpp skips CPU-type Vulkan devices such as lavapipe unless GGML_VK_VISIBLE_DEVICES names them)' : ''}` });
}

const dir = await mkdtemp(join(tmpdir(), 'mm-gpu-check-'));
let failure: string | undefined;
try {
  const model = await writeTestModel({ format: 'gguf', task: 'text_generation', out: dir });
  const loaded = await llama.loadModel({ modelPath: join(model.path, model.files[0]!), gpuLayers: 'max' });
  if (loaded.gpuLayers === 0) {
    failure = `llama.cpp put no layer of a tiny model on the ${kind} GPU`;
  } else {
    const context = await loaded.createContext({ contextSize: 64 });
    await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion('gpu check', { maxTokens: 1 });
  }
} catch (error) {
  failure = [...said, error instanceof Error ? error.message : String(error)].join('; ');
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failure !== undefined) answer({ ok: false, reason: failure });
const { total, used } = await llama.getVramState();
answer({ ok: true, gpu: kind, devices, vram: { total, used } });
