/**
 * Running one request on a loaded model: embeddings through the cache and the batching pool,
 * text generation with streaming, and custom task types of user backends.
 */
import { isModelManagerError, ModelManagerError } from '../errors.js';
import type { EmbeddingParams, GenerationParams, LoadedModel, TaskType } from './backends/backend.js';
import { EmbeddingCache } from './embedding-cache.js';
import type { ModelSlot } from './model-slot.js';
import { embeddingParams, embeddingTexts, generationParams, generationPrompt } from './task-input.js';
import type { EmbeddingTaskOutput, GenerationTaskOutput } from './types.js';

export interface RunTaskInput {
  taskType: TaskType;
  taskData: unknown;
  params: Record<string, unknown>;
  cache: EmbeddingCache;
  onToken?: (text: string) => void;
  /** Stops generations when the manager shuts down. */
  signal?: AbortSignal;
  /** Called after each backend call with its throughput. */
  onMeasured(throughput: { value: number; unit: string }): void;
}

export async function runTask(slot: ModelSlot, input: RunTaskInput): Promise<unknown> {
  try {
    if (input.taskType === 'embedding') return await embed(slot, input);
    if (input.taskType === 'text_generation') return await generate(slot, input);
    return await slot.pool!.run((m) => {
      if (!m.run) throw unsupported(m, input.taskType);
      return m.run(input.taskType, input.taskData, input.params);
    });
  } catch (error) {
    if (isModelManagerError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelManagerError('TASK_FAILED', `${input.taskType} on "${slot.name}" failed: ${reason}`, {
      cause: error,
      details: { modelName: slot.name, taskType: input.taskType, backend: slot.backend?.name },
    });
  }
}

/** The cache keys of `texts` under these parameters, and whether every one is cached. */
export function lookupEmbeddings(cache: EmbeddingCache, model: string, texts: readonly string[], params: EmbeddingParams) {
  const paramsKey = `${params.pooling ?? ''}|${params.normalize ?? ''}`;
  const keys = texts.map((t) => EmbeddingCache.key(model, paramsKey, t));
  return { keys, allCached: keys.every((k) => cache.has(k)) };
}

/** Embeddings served by the cache alone, without loading the model; undefined unless every text is cached. */
export function cachedEmbeddings(cache: EmbeddingCache, name: string, model: string, taskData: unknown, params: Record<string, unknown>): EmbeddingTaskOutput | undefined {
  if (cache.maxEntries <= 0) return undefined;
  const texts = embeddingTexts(taskData);
  const { keys, allCached } = lookupEmbeddings(cache, model, texts, embeddingParams(params));
  if (!allCached) return undefined;
  const vectors = keys.map((k) => cache.get(k));
  if (vectors.some((v) => v === undefined)) return undefined;
  const embeddings = vectors as number[][];
  return { embeddings, model: name, dimensions: embeddings[0]?.length ?? 0, cached: embeddings.length, usage: {} };
}

async function embed(slot: ModelSlot, { taskData, params, cache, onMeasured }: RunTaskInput): Promise<EmbeddingTaskOutput> {
  const texts = embeddingTexts(taskData);
  const embedding = embeddingParams(params);
  // With the cache off no key is hashed.
  const keys = cache.maxEntries > 0 ? lookupEmbeddings(cache, slot.location.key, texts, embedding).keys : undefined;
  const vectors: (number[] | undefined)[] = texts.map((_, i) => (keys ? cache.get(keys[i]!) : undefined));
  const cached = vectors.filter((v) => v !== undefined).length;
  // Each distinct missing text is embedded once, however often it repeats in the request.
  const missing = [...new Set(texts.filter((_, i) => vectors[i] === undefined))];
  if (missing.length > 0) {
    const started = performance.now();
    const computed = await slot.pool!.embed(missing, embedding);
    onMeasured({ value: missing.length / Math.max(1e-3, (performance.now() - started) / 1000), unit: 'texts/s' });
    const byText = new Map(missing.map((t, i) => [t, computed[i]!]));
    texts.forEach((t, i) => {
      if (vectors[i] !== undefined) return;
      const vector = byText.get(t)!;
      vectors[i] = vector;
      if (keys) cache.set(keys[i]!, vector);
    });
  }
  const embeddings = vectors as number[][];
  return { embeddings, model: slot.name, dimensions: embeddings[0]?.length ?? 0, cached, usage: {} };
}

async function generate(slot: ModelSlot, { taskData, params, onToken, signal, onMeasured }: RunTaskInput): Promise<GenerationTaskOutput> {
  const prompt = generationPrompt(taskData);
  const generation: GenerationParams = generationParams(params);
  if (signal) generation.signal = signal;
  let streamed = false;
  if (onToken) {
    generation.onToken = (text) => {
      streamed = true;
      onToken(text);
    };
  }
  const started = performance.now();
  const output = await slot.pool!.run((m) => {
    if (!m.generate) throw unsupported(m, 'text_generation');
    return m.generate(prompt, generation);
  });
  // A backend that cannot stream still gives the caller its text, in one piece.
  if (onToken && !streamed && output.text !== '') onToken(output.text);
  const seconds = (performance.now() - started) / 1000;
  if (output.tokens > 0) onMeasured({ value: output.tokens / Math.max(1e-3, seconds), unit: 'tokens/s' });
  const limit = generation.maxTokens;
  return {
    generatedText: output.text,
    model: slot.name,
    tokens: output.tokens,
    finishReason: output.finishReason ?? (limit !== undefined && output.tokens >= limit ? 'length' : 'stop'),
  };
}

function unsupported(model: LoadedModel, taskType: TaskType): ModelManagerError {
  return new ModelManagerError('UNSUPPORTED_TASK', `backend "${model.backend}" cannot run ${taskType} on this model: pick a model made for ${taskType}`, {
    details: { backend: model.backend, taskType },
  });
}
