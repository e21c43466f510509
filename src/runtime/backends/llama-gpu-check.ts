/**
 * Which llama.cpp GPU kind computes here, found in child processes: with a prebuilt CUDA binary
 * newer than the driver, the GPU is detected and the model loads, then the first decode aborts
 * the whole process ("the provided PTX was compiled with an unsupported toolchain"). Each kind is
 * tried in its own child (llama-gpu-probe.ts), so such a crash only rules that kind out.
 *
 * `auto` tries each installed prebuilt in order (cuda, vulkan, metal) and keeps the first that
 * computes; a named kind tries only that one; `cpu` tries none. Answers are kept per process
 * for each setting and device environment.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { fileURLToPath } from 'node:url';
import { config, type LlamaGpuSetting } from '../../config.js';
import { describeAttempts } from '../devices.js';
import type { BackendGpus, GpuAttempt } from './backend.js';
import type { ProbeAnswer } from './llama-gpu-probe.js';
import { onnxGpus } from './onnx-gpus.js';

export type LlamaGpuKind = Exclude<LlamaGpuSetting, 'auto' | 'cpu'>;

/** What the check found: the kind to use (or false) and every kind tried. */
export interface LlamaGpus extends BackendGpus {
  kind: LlamaGpuKind | false;
  /** The setting checked. */
  setting: LlamaGpuSetting;
  /** Total memory of the devices, as the working kind's binary reported it (0 without a GPU). */
  vramTotalBytes: number;
}

const PROBE = fileURLToPath(new URL('./llama-gpu-probe.js', import.meta.url));
/** A first decode on lavapipe compiles its shaders (a minute on a busy CPU); a real GPU answers in seconds. */
const TIMEOUT_MS = 300_000;
const ORDER: readonly LlamaGpuKind[] = ['cuda', 'vulkan', 'metal'];
/** Environment variables that change which devices a kind sees. */
const DEVICE_ENV = ['CUDA_VISIBLE_DEVICES', 'GGML_VK_VISIBLE_DEVICES', 'VK_DRIVER_FILES', 'VK_ICD_FILENAMES'] as const;

/** node-llama-cpp's prebuilt packages of a GPU kind on this platform (the first that is installed is used). */
function prebuiltPackages(kind: LlamaGpuKind): string[] {
  const os = { linux: 'linux', win32: 'win', darwin: 'mac' }[platform() as string];
  if (!os) return [];
  if (kind === 'metal') return os === 'mac' && arch() === 'arm64' ? ['@node-llama-cpp/mac-arm64-metal'] : [];
  if (os === 'mac' || arch() !== 'x64') return [];
  const base = `@node-llama-cpp/${os}-x64-${kind}`;
  return kind === 'cuda' ? [base, `${base}-ext`] : [base];
}

/** The first installed prebuilt package of `kind`, resolved from node-llama-cpp itself (nothing is imported). */
export function installedPrebuilt(kind: LlamaGpuKind): string | undefined {
  let resolveFrom: NodeJS.Require;
  try {
    resolveFrom = createRequire(import.meta.resolve('node-llama-cpp'));
  } catch {
    return undefined;
  }
  return prebuiltPackages(kind).find((name) => {
    try {
      resolveFrom.resolve(name);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs the probe of one kind in a child process; a crash or a timeout is that kind's failure. */
function probe(kind: LlamaGpuKind): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE, kind], { timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"ok":'));
      if (!error && line) {
        resolve(JSON.parse(line) as ProbeAnswer);
        return;
      }
      const how = error?.killed && error.signal === 'SIGTERM'
        ? `timed out after ${TIMEOUT_MS / 1000} s`
        : error?.signal ? `killed by ${error.signal}` : `exit code ${error?.code ?? 0}`;
      resolve({ ok: false, reason: `${reasonOf(`${stdout}\n${stderr}`)} [GPU check ${how}]` });
    });
  });
}

/** The most telling line of a crashed probe's output (llama.cpp's CUDA or Vulkan error, else the last line). */
function reasonOf(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^\[node-llama-cpp\]\s*/, '').trim()).filter(Boolean);
  return lines.find((l) => /CUDA error|Vulkan error|error:/i.test(l)) ?? lines.at(-1) ?? 'no output';
}

async function check(setting: LlamaGpuSetting): Promise<LlamaGpus> {
  const attempts: GpuAttempt[] = [];
  const kinds = setting === 'auto' ? ORDER.filter((k) => installedPrebuilt(k) !== undefined) : setting === 'cpu' ? [] : [setting];
  for (const kind of kinds) {
    if (!installedPrebuilt(kind)) {
      const wanted = prebuiltPackages(kind)[0];
      attempts.push({ kind, ok: false, reason: wanted ? `its prebuilt binary is not installed: npm install ${wanted}` : `node-llama-cpp has no ${kind} build for ${platform()}-${arch()}` });
      continue;
    }
    const result = await probe(kind);
    if (!result.ok) {
      attempts.push({ kind, ok: false, reason: result.reason });
      continue;
    }
    attempts.push({ kind, ok: true });
    return { setting, kind, devices: result.devices, attempts, vramTotalBytes: result.vram.total };
  }
  return { setting, kind: false, devices: [], attempts, vramTotalBytes: 0 };
}

const checks = new Map<string, Promise<LlamaGpus>>();

/** The llama.cpp GPUs for `setting`, checked once per process and device environment. */
export function checkLlamaGpus(setting: LlamaGpuSetting): Promise<LlamaGpus> {
  const key = [setting, ...DEVICE_ENV.map((name) => process.env[name] ?? '')].join('\0');
  let answer = checks.get(key);
  if (!answer) {
    answer = check(setting);
    checks.set(key, answer);
  }
  return answer;
}

/**
 * What llama.cpp's GPU check finds here for `MM_LLAMA_GPU` (auto unless set): the kind (false
 * for none), its devices, and why the kinds tried failed.
 */
export async function llamaCppGpu(): Promise<{ gpu: LlamaGpuKind | false; devices: string[]; failure?: string }> {
  const found = await checkLlamaGpus(config().llamaGpu);
  const failure = describeAttempts(found.attempts);
  return { gpu: found.kind, devices: found.devices, ...(failure ? { failure } : {}) };
}

/** GPUs the built-in backends can compute on here: the most that llama.cpp or onnxruntime finds. */
export async function detectGpuCount(): Promise<number> {
  return Math.max((await llamaCppGpu()).devices.length, onnxGpus().devices.length);
}
