/**
 * Checks what a caller passed to task() before any model is loaded, so a malformed request
 * costs nothing and says what shape was expected.
 */
import { ModelManagerError } from '../errors.js';
import type { EmbeddingParams, GenerationParams } from './backends/backend.js';

/** Most texts one embedding request may carry. */
export const MAX_TEXTS_PER_REQUEST = 4096;

function invalid(message: string, details: Record<string, unknown> = {}): ModelManagerError {
  return new ModelManagerError('INVALID_TASK_DATA', message, { details });
}

/** Texts of an embedding request: a string or a non-empty list of strings. */
export function embeddingTexts(data: unknown): string[] {
  const texts = typeof data === 'string' ? [data] : data;
  if (!Array.isArray(texts)) throw invalid(`embedding taskData must be a string or a list of strings, got ${describe(data)}`, { got: describe(data) });
  if (texts.length === 0) throw invalid('embedding taskData is an empty list: pass at least one text');
  if (texts.length > MAX_TEXTS_PER_REQUEST) throw invalid(`embedding taskData has ${texts.length} texts; send at most ${MAX_TEXTS_PER_REQUEST} per request`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw invalid(`embedding taskData[${i}] must be a string, got ${describe(t)}`, { index: i });
  });
  return texts as string[];
}

/** The prompt of a text_generation request: a string (or a list holding one). */
export function generationPrompt(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data) && data.length === 1 && typeof data[0] === 'string') return data[0];
  throw invalid(`text_generation taskData must be one prompt string, got ${describe(data)}`, { got: describe(data) });
}

export function embeddingParams(params: Record<string, unknown>): EmbeddingParams {
  const out: EmbeddingParams = {};
  const { pooling, normalize } = params;
  if (pooling !== undefined) {
    if (pooling !== 'mean' && pooling !== 'cls' && pooling !== 'none') throw invalid(`pooling must be mean, cls or none, got ${describe(pooling)}`);
    out.pooling = pooling;
  }
  if (normalize !== undefined) {
    if (typeof normalize !== 'boolean') throw invalid(`normalize must be true or false, got ${describe(normalize)}`);
    out.normalize = normalize;
  }
  return out;
}

/** Generation parameters; `maxLength` and `maxNewTokens` (seed and transformers names) mean `maxTokens`. */
export function generationParams(params: Record<string, unknown>): GenerationParams {
  const out: GenerationParams = {};
  const maxTokens = params.maxTokens ?? params.maxLength ?? params.maxNewTokens;
  if (maxTokens !== undefined) out.maxTokens = integer('maxTokens', maxTokens, 1);
  if (params.temperature !== undefined) out.temperature = number('temperature', params.temperature, 0);
  if (params.topK !== undefined) out.topK = integer('topK', params.topK, 0);
  if (params.topP !== undefined) out.topP = number('topP', params.topP, 0, 1);
  if (params.seed !== undefined) out.seed = integer('seed', params.seed, 0);
  if (params.stop !== undefined) {
    const stop = typeof params.stop === 'string' ? [params.stop] : params.stop;
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')) throw invalid('stop must be a string or a list of strings');
    out.stop = stop as string[];
  }
  return out;
}

function number(name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${name} must be a number${max === Infinity ? ` >= ${min}` : ` from ${min} to ${max}`}, got ${describe(value)}`, { [name]: value });
  }
  return value;
}

function integer(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalid(`${name} must be an integer >= ${min}, got ${describe(value)}`, { [name]: value });
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' ? 'a string' : typeof value;
}
