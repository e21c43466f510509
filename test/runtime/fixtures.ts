/**
 * Real-format models for the runtime tests, written once per test file by the project's own
 * generators (the same code as `mm testmodel`), and small helpers.
 */
import { join } from 'node:path';
import { writeTestModel } from '../../src/testmodels/index.js';

export interface TinyModels {
  /** ONNX bert feature extractor (transformers backend). */
  onnxEmbedding: string;
  /** GGUF bert embedder (llama-cpp backend). */
  ggufEmbedding: string;
  /** GGUF llama decoder (llama-cpp backend). */
  ggufLlama: string;
}

export async function writeTinyModels(dir: string): Promise<TinyModels> {
  const [onnx, bert, llama] = await Promise.all([
    writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir, 'onnx-embedding') }),
    writeTestModel({ format: 'gguf', task: 'embedding', out: join(dir, 'gguf-embedding') }),
    writeTestModel({ format: 'gguf', task: 'text_generation', out: join(dir, 'gguf-llama') }),
  ]);
  return { onnxEmbedding: onnx.path, ggufEmbedding: bert.path, ggufLlama: llama.path };
}

/** Polls `condition` until it holds; fails after `timeoutMs` (a hang guard, not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The data of a successful Result, or a failed assertion showing the error. */
export function dataOf<T>(result: { success: true; data: unknown } | { success: false; error: { code: string; message: string } }): T {
  if (!result.success) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.data as T;
}
