/**
 * Running one checked request on a loaded model: embeddings through the cache and the batching
 * pool, text generation with streaming, and custom task types of user backends. While it runs,
 * the request is listed in the model's ps entry; when its caller gives up, it stops (CANCELLED).
 */
import { isModelManagerError, ModelManagerError } from '../errors.js';
import type { GenerationParams, LoadedModel, TaskType } from './backends/backend.js';
import { throwIfCancelled } from './cancellation.js';
import type { CachedTexts, EmbeddingCache } from './embedding-cache.js';
import { shortenEmbeddings } from './embedding-dimensions.js';
import type { ModelSlot } from './model-slot.js';
import type { ResolvedModel } from './resolve-model.js';
import type { CustomInput, EmbeddingInput, GenerationInput, TaskInput } from './task-input.js';
import type { EmbeddingTaskOutput, GenerationTaskOutput } from './types.js';
import type { JobOptions } from './worker-pool.js';

export interface RunContext {
  cache: EmbeddingCache;
  /** An embedding request's texts, looked up in the cache before the model was acquired (undefined: the cache is off, or the request skips it). */
  cached: CachedTexts | undefined;
  /** Stops generations when the manager shuts down. */
  shutdown: AbortSignal;
  /** Called after each backend call with its throughput. */
  onMeasured(throughput: { value: number; unit: string }): void;
}

/** Runs a checked request that carries data (not a preload) on `slot`. */
export async function runTask(slot: ModelSlot, input: TaskInput, context: RunContext): Promise<unknown> {
  const task = slot.enterTask(input.kind === 'text_generation' ? input.params.maxTokens : undefined);
  try {
    const options = { ...(input.signal ? { signal: input.signal } : {}), onStart: () => task.start() };
    const output = input.kind === 'embedding'
      ? await embed(slot, input, context, options)
      : input.kind === 'text_generation'
        ? await generate(slot, input, context, options)
        : await custom(slot, input, options);
    // Whatever the backend made after its caller left is not an answer to anyone.
    throwIfCancelled(input.signal);
    return output;
  } catch (error) {
    if (isModelManagerError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelManagerError('TASK_FAILED', `${input.taskType} on "${slot.name}" failed: ${reason}`, {
      cause: error,
      details: { modelName: slot.name, taskType: input.taskType, backend: slot.backend?.name },
    });
  } finally {
    task.end();
  }
}

/** Embeddings served by the cache alone, without loading the model; undefined unless every text was cached. */
export function cachedEmbeddings(cached: CachedTexts, input: EmbeddingInput, location: ResolvedModel): EmbeddingTaskOutput | undefined {
  if (!cached.vectors.every((v) => v !== undefined)) return undefined;
  return embeddingOutput(cached.vectors as number[][], cached.vectors.length, input, location);
}

function embeddingOutput(vectors: number[][], cached: number, input: EmbeddingInput, location: ResolvedModel): EmbeddingTaskOutput {
  const embeddings = shorten(vectors, input, location);
  return { embeddings, model: input.modelName, dimensions: embeddings[0]?.length ?? 0, cached, usage: {} };
}

function shorten(vectors: number[][], input: EmbeddingInput, location: ResolvedModel): number[][] {
  try {
    return shortenEmbeddings(vectors, input.dimensions, { model: location.model, modelName: input.modelName, normalize: input.params.normalize ?? true });
  } catch (error) {
    const { configured } = input;
    if (configured?.dimension === undefined || input.dimensions !== configured.dimension) throw error;
    // The settings asked for this length, not the caller: say which setting to fix.
    throw new ModelManagerError('INVALID_CONFIG', `models.${configured.id}.dimension is ${configured.dimension}, but ${(error as Error).message}: fix the setting`, {
      cause: error, details: { modelId: configured.id, dimension: configured.dimension, modelDimensions: vectors[0]?.length ?? 0 },
    });
  }
}

async function embed(slot: ModelSlot, input: EmbeddingInput, { cache, cached: looked, onMeasured }: RunContext, options: JobOptions): Promise<EmbeddingTaskOutput> {
  const texts = input.texts!;
  const embedding = input.params;
  // Looked up under the name's model before it was acquired; another model now (its name was
  // resolved afresh meanwhile) is looked up again.
  const lookup = looked && looked.model !== slot.location.key ? cache.lookup(slot.location.key, embedding, texts) : looked;
  const keys = lookup?.keys;
  const vectors = lookup ? [...lookup.vectors] : new Array<number[] | undefined>(texts.length).fill(undefined);
  const cached = vectors.filter((v) => v !== undefined).length;
  // Each distinct missing text is embedded once, however often it repeats in the request.
  const missing = [...new Set(texts.filter((_, i) => vectors[i] === undefined))];
  if (missing.length > 0) {
    const started = performance.now();
    const computed = await slot.pool!.embed(missing, embedding, options);
    onMeasured({ value: missing.length / Math.max(1e-3, (performance.now() - started) / 1000), unit: 'texts/s' });
    const byText = new Map(missing.map((t, i) => [t, computed[i]!]));
    texts.forEach((t, i) => {
      if (vectors[i] !== undefined) return;
      const vector = byText.get(t)!;
      vectors[i] = vector;
      if (keys) cache.set(keys[i]!, vector);
    });
  }
  const output = embeddingOutput(vectors as number[][], cached, input, slot.location);
  const counter = slot.pool!.instances[0];
  if (input.countTokens && counter?.countTokens) output.usage.tokens = (await counter.countTokens(texts)).reduce((a, b) => a + b, 0);
  return output;
}

async function generate(slot: ModelSlot, input: GenerationInput, { shutdown, onMeasured }: RunContext, options: JobOptions): Promise<GenerationTaskOutput> {
  const { onToken, signal } = input;
  const generation: GenerationParams = { ...input.params, signal: signal ? AbortSignal.any([signal, shutdown]) : shutdown };
  let streamed = false;
  if (onToken) {
    generation.onToken = (text) => {
      streamed = true;
      onToken(text);
    };
  }
  const started = performance.now();
  const output = await slot.pool!.run(async (m) => {
    if (!m.generate) throw unsupported(m, 'text_generation');
    await checkPromptLength(m, input);
    return m.generate(input.prompt!, generation);
  }, options);
  // A backend that cannot stream still gives the caller its text, in one piece.
  if (onToken && !streamed && output.text !== '') onToken(output.text);
  const seconds = (performance.now() - started) / 1000;
  if (output.tokens > 0) onMeasured({ value: output.tokens / Math.max(1e-3, seconds), unit: 'tokens/s' });
  const limit = generation.maxTokens;
  return {
    generatedText: output.text,
    model: input.modelName,
    tokens: output.tokens,
    promptTokens: output.promptTokens ?? 0,
    finishReason: output.finishReason ?? (limit !== undefined && output.tokens >= limit ? 'length' : 'stop'),
  };
}

/** A configured model's `maxInputLength`, counted by the model's own tokenizer. @throws INVALID_TASK_DATA */
async function checkPromptLength(model: LoadedModel, { prompt, maxPromptTokens, configured }: GenerationInput): Promise<void> {
  if (maxPromptTokens === undefined || !configured) return;
  if (!model.countTokens) throw new ModelManagerError('INVALID_CONFIG', `models.${configured.id}.maxInputLength is set, but ${model.backend} cannot count the prompt's tokens: drop the setting`);
  const [tokens = 0] = await model.countTokens([prompt!]);
  if (tokens > maxPromptTokens) {
    throw new ModelManagerError('INVALID_TASK_DATA', `the prompt is ${tokens} tokens; "${configured.id}" takes at most ${maxPromptTokens} (models.${configured.id}.maxInputLength): shorten it`, {
      details: { modelName: configured.id, promptTokens: tokens, maxInputLength: maxPromptTokens },
    });
  }
}

function custom(slot: ModelSlot, input: CustomInput, options: JobOptions): Promise<unknown> {
  return slot.pool!.run((m) => {
    if (!m.run) throw unsupported(m, input.taskType);
    return m.run(input.taskType, input.data, input.params);
  }, options);
}

function unsupported(model: LoadedModel, taskType: TaskType): ModelManagerError {
  return new ModelManagerError('UNSUPPORTED_TASK', `backend "${model.backend}" cannot run ${taskType} on this model: pick a model made for ${taskType}`, {
    details: { backend: model.backend, taskType },
  });
}
