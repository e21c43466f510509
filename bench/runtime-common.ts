/**
 * What the runtime benchmarks share: the generated bench models, inputs, timing and the table.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTestModel, type TestModelFormat, type TestModelSize, type TestModelTask } from '../src/testmodels/index.js';

export const MODELS_DIR = process.env.MM_BENCH_MODELS ?? join(tmpdir(), 'mm-bench-models');
const WORDS = 'the a model runs fast on small machines while users wait for answers about text search embeddings'.split(' ');

/** Deterministic sentences of 8 to 23 words. */
export function sentences(n: number, salt = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const len = 8 + ((i * 7 + salt) % 16);
    return Array.from({ length: len }, (_, j) => WORDS[(i * 13 + j * 5 + salt) % WORDS.length]).join(' ') + ` #${salt}-${i}`;
  });
}

/** A generated model of realistic shape (random weights), written once to MODELS_DIR. */
export async function benchModel(format: TestModelFormat, task: TestModelTask, size: TestModelSize = 'bench'): Promise<string> {
  const out = join(MODELS_DIR, `${format}-${task}-${size}`);
  if (!existsSync(join(out, 'README.md'))) {
    process.stderr.write(`writing ${out} ...\n`);
    await writeTestModel({ format, task, out, size });
  }
  return out;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export function row(label: string, baseline: string, measured: string, ratio: string, target: string): void {
  process.stdout.write(`| ${label} | ${baseline} | ${measured} | ${ratio} | ${target} |\n`);
}

export function header(): void {
  process.stdout.write('| measure | baseline | ModelManager | ratio | target |\n|---|---|---|---|---|\n');
}

export function progress(step: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${step}\n`);
}

export function ok<T>(result: { success: true; data: T } | { success: false; error: { code: string; message: string } }): T {
  if (!result.success) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.data;
}
