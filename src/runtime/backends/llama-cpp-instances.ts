/**
 * Loaded instances of the `llama-cpp` backend: an embedding context, or a completion over one
 * context sequence. Each serves one call at a time (a sequence evaluates one batch at a time).
 */
import type { LlamaModel, Token } from 'node-llama-cpp';
import { ModelManagerError } from '../../errors.js';
import type { Device, EmbeddingParams, GenerationOutput, GenerationParams, LoadedModel } from './backend.js';
import type { NodeLlamaCpp } from './llama-cpp.js';
import { l2Normalize } from './vectors.js';

const BACKEND = 'llama-cpp';
/** llama.cpp's `pooling_type` values, as GGUF metadata stores them. */
const POOLING_TYPES: Record<number, EmbeddingParams['pooling'] | 'last' | 'rank'> = { 0: 'none', 1: 'mean', 2: 'cls', 3: 'last', 4: 'rank' };

/** Runs calls one after the other: a context sequence serves one evaluation at a time. */
class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(work, work);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

export interface InstanceOptions {
  threads: number | undefined;
  device: Device;
  warning: string | undefined;
  signal?: AbortSignal;
}

/** Context memory as node-llama-cpp estimates it for this model. */
function contextBytes(model: LlamaModel, contextSize: number, isEmbeddingContext: boolean): number {
  const estimate = model.fileInsights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: model.gpuLayers, isEmbeddingContext });
  return estimate.cpuRam + estimate.gpuVram;
}

export class LlamaCppEmbedder implements LoadedModel {
  readonly backend = BACKEND;
  readonly #queue = new SerialQueue();
  #disposed = false;

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: Awaited<ReturnType<LlamaModel['createEmbeddingContext']>>,
    readonly device: Device,
    readonly memoryBytes: number,
    private readonly pooling: string | undefined,
    readonly warning: string | undefined,
  ) {}

  get dimensions(): number {
    return this.model.embeddingVectorSize;
  }

  static async create(model: LlamaModel, { threads, device, warning, signal }: InstanceOptions): Promise<LlamaCppEmbedder> {
    const contextSize = model.trainContextSize;
    const context = await model.createEmbeddingContext({
      contextSize, ...(threads === undefined ? {} : { threads }), ...(signal ? { createSignal: signal } : {}),
    });
    const poolingId = model.fileInfo.architectureMetadata.pooling_type;
    const pooling = typeof poolingId === 'number' ? POOLING_TYPES[poolingId] : undefined;
    return new LlamaCppEmbedder(model, context, device, model.size + contextBytes(model, contextSize, true), pooling, warning);
  }

  embed(texts: readonly string[], { pooling, normalize = true }: EmbeddingParams): Promise<number[][]> {
    if (pooling !== undefined && this.pooling !== undefined && pooling !== this.pooling) {
      return Promise.reject(new ModelManagerError('INVALID_ARGUMENT', `this GGUF model pools with "${this.pooling}"; llama-cpp cannot switch to "${pooling}": leave pooling out`, {
        details: { pooling, modelPooling: this.pooling, backend: BACKEND },
      }));
    }
    return this.#queue.run(async () => {
      const vectors: number[][] = [];
      for (const text of texts) {
        const { vector } = await this.context.getEmbeddingFor(text);
        vectors.push(normalize ? l2Normalize(vector) : [...vector]);
      }
      return vectors;
    });
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.context.dispose();
    await this.model.dispose();
  }
}

export class LlamaCppGenerator implements LoadedModel {
  readonly backend = BACKEND;
  readonly #queue = new SerialQueue();
  #disposed = false;

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: Awaited<ReturnType<LlamaModel['createContext']>>,
    private readonly completion: InstanceType<NodeLlamaCpp['LlamaCompletion']>,
    readonly device: Device,
    readonly memoryBytes: number,
    readonly warning: string | undefined,
  ) {}

  static async create(
    model: LlamaModel,
    { LlamaCompletion }: NodeLlamaCpp,
    { threads, device, warning, signal, maxContextSize }: InstanceOptions & { maxContextSize: number },
  ): Promise<LlamaCppGenerator> {
    const contextSize = Math.min(model.trainContextSize, maxContextSize);
    const context = await model.createContext({
      contextSize, sequences: 1, ...(threads === undefined ? {} : { threads }), ...(signal ? { createSignal: signal } : {}),
    });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    return new LlamaCppGenerator(model, context, completion, device, model.size + context.stateSize, warning);
  }

  generate(prompt: string, { maxTokens = 256, temperature, topK, topP, seed, stop, onToken, signal }: GenerationParams): Promise<GenerationOutput> {
    return this.#queue.run(async () => {
      let tokens = 0;
      const { response, metadata } = await this.completion.generateCompletionWithMeta(prompt, {
        maxTokens,
        ...(temperature === undefined ? {} : { temperature }),
        ...(topK === undefined ? {} : { topK }),
        ...(topP === undefined ? {} : { topP }),
        ...(seed === undefined ? {} : { seed }),
        ...(stop && stop.length > 0 ? { customStopTriggers: [...stop] } : {}),
        ...(signal ? { signal, stopOnAbortSignal: true } : {}),
        onToken: (generated: Token[]) => {
          tokens += generated.length;
        },
        ...(onToken ? { onTextChunk: onToken } : {}),
      });
      return { text: response, tokens, finishReason: metadata.stopReason === 'maxTokens' ? 'length' : 'stop' };
    });
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.context.dispose();
    await this.model.dispose();
  }
}
