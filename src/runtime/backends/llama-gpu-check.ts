/**
 * Whether llama.cpp can really compute on the GPU it finds, asked once per process in a child
 * process: with a prebuilt CUDA binary newer than the driver, the GPU is detected and the model
 * loads, then the first decode aborts the whole process ("the provided PTX was compiled with an
 * unsupported toolchain"). Checking in a child turns that crash into a fall back to the CPU.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Llama } from 'node-llama-cpp';

export interface LlamaGpuCheck {
  /** The GPU kind to use, or false for the CPU. */
  gpu: Llama['gpu'];
  /** Why a GPU that was found cannot be used. */
  failure?: string;
}

const PROBE = fileURLToPath(new URL('./llama-gpu-probe.js', import.meta.url));
const TIMEOUT_MS = 120_000;

/** The most telling line of a failed probe's output (llama.cpp's CUDA error, else the last line). */
function reasonOf(output: string): string {
  const lines = output.split('\n').map((l) => l.replace(/^\[node-llama-cpp\]\s*/, '').trim()).filter(Boolean);
  return lines.find((l) => /CUDA error:|Vulkan error|error:/i.test(l)) ?? lines.at(-1) ?? 'no output';
}

let check: Promise<LlamaGpuCheck> | undefined;

/** Runs the probe once per process; later calls share its answer. */
export function checkLlamaGpu(): Promise<LlamaGpuCheck> {
  check ??= new Promise((resolve) => {
    execFile(process.execPath, [PROBE], { timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const answer = /\{"gpu":.*\}/.exec(stdout)?.[0];
      if (!error && answer) {
        resolve(JSON.parse(answer) as LlamaGpuCheck);
        return;
      }
      const how = error?.killed && error.signal === 'SIGTERM'
        ? `timed out after ${TIMEOUT_MS / 1000} s`
        : error?.signal ? `killed by ${error.signal}` : `exit code ${error?.code ?? 0}`;
      resolve({ gpu: false, failure: `${reasonOf(`${stdout}\n${stderr}`)} [GPU check ${how}]` });
    });
  });
  return check;
}
