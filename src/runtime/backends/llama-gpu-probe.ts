/**
 * Child-process entry of the llama.cpp GPU check (see llama-gpu-check.ts): loads a generated tiny
 * llama on the GPU node-llama-cpp picks and decodes a few tokens. A GPU whose kernels cannot run
 * (driver older than the prebuilt binary's toolchain, unsupported architecture) aborts the process
 * inside llama.cpp, so this must never run in the caller's process.
 *
 * Prints one JSON line `{"gpu": "cuda" | "vulkan" | "metal" | false}` and exits 0 when the GPU works
 * or there is none.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaCompletion } from 'node-llama-cpp';
import { writeTestModel } from '../../testmodels/index.js';

const llama = await getLlama({ gpu: 'auto', build: 'never', skipDownload: true, progressLogs: false });
if (llama.gpu !== false) {
  const dir = await mkdtemp(join(tmpdir(), 'mm-gpu-check-'));
  try {
    const model = await writeTestModel({ format: 'gguf', task: 'text_generation', out: dir });
    const loaded = await llama.loadModel({ modelPath: join(model.path, model.files[0]!), gpuLayers: 'max' });
    const context = await loaded.createContext({ contextSize: 64 });
    await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion('gpu check', { maxTokens: 2 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`${JSON.stringify({ gpu: llama.gpu })}\n`);
process.exit(0);
