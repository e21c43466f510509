/**
 * Loaded instances of the `llama-cpp` backend: embedding contexts over one model, or a completion
 * over one context sequence. Each serves one call at a time (a sequence evaluates one batch at a
 * time); an embedder spreads the texts of a call over its contexts.
 */
import type { LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { ModelManagerError } from '../../errors.js';
import type { Device, EmbeddingParams, GenerationOutput, GenerationParams, LoadedModel } from './backend.js';
import { DisposeGuard } from './dispose-guard.js';
import type { NodeLlamaCpp } from './llama-cpp.js';
import { l2Normalize } from './vectors.js';

const BACKEND = 'llama-cpp';
/** llama.cpp's `pooling_type` values, as GGUF metadata stores them. */
const POOLING_TYPES: Record<number, EmbeddingParams['pooling'] | 'last' | 'rank'> = { 0: 'none', 1: 'mean', 2: 'cls', 3: 'last', 4: 'rank' };

/**
 * Runs calls one after the other (a context sequence serves one evaluation at a time), each
 * refused once the instance is disposed: when it is made, and when its turn comes.
 */
class SerialQueue {
  readonly guard = new DisposeGuard(BACKEND);
  #tail: Promise<unknown> = Promise.resolve();
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.guard.ensureNotDisposed();
    const turn = () => {
      this.guard.ensureNotDisposed();
      return work();
    };
    const next = this.#tail.then(turn, turn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

export interface InstanceOptions {
  threads: number | undefined;
  /** Embedding contexts sharing the model's weights (llama.cpp embeds one sequence per context). Defaults to 1. */
  contexts?: number;
  /** Cap on the context (the model's training context can be far larger than needed). */
  maxContextSize: number;
  device: Device;
  /** The GPU kind the model's layers are on; undefined on the CPU. */
  gpuKind: string | undefined;
  warning: string | undefined;
  signal?: AbortSignal;
}

/**
 * What the model and its contexts hold, as node-llama-cpp estimates it for the layers it really
 * put on the GPU: RAM and GPU memory apart.
 */
function memoryOf(model: LlamaModel, contextSize: number, contexts: number, isEmbeddingContext: boolean): { memoryBytes: number; vramBytes: number } {
  const weights = model.fileInsights.estimateModelResourceRequirements({ gpuLayers: model.gpuLayers });
  const context = model.fileInsights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: model.gpuLayers, isEmbeddingContext });
  if (model.gpuLayers === 0) return { memoryBytes: model.size + contexts * (context.cpuRam + context.gpuVram), vramBytes: 0 };
  return { memoryBytes: weights.cpuRam + contexts * context.cpuRam, vramBytes: weights.gpuVram + contexts * context.gpuVram };
}

type EmbeddingContext = Awaited<ReturnType<LlamaModel['createEmbeddingContext']>>;

export class LlamaCppEmbedder implements LoadedModel {
  readonly backend = BACKEND;
  readonly #queue = new SerialQueue();

  readonly device: Device;
  readonly gpuKind: string | undefined;
  readonly warning: string | undefined;
  readonly memoryBytes: number;
  readonly vramBytes: number;
  readonly dimensions: number;

  private constructor(
    private readonly model: LlamaModel,
    private readonly contexts: readonly EmbeddingContext[],
    private readonly pooling: string | undefined,
    private readonly contextSize: number,
    { device, gpuKind, warning }: InstanceOptions,
  ) {
    this.device = device;
    this.gpuKind = gpuKind;
    this.warning = warning;
    ({ memoryBytes: this.memoryBytes, vramBytes: this.vramBytes } = memoryOf(model, contextSize, contexts.length, true));
    this.dimensions = model.embeddingVectorSize;
  }

  static async create(model: LlamaModel, options: InstanceOptions): Promise<LlamaCppEmbedder> {
    const { threads, contexts: count = 1, signal, maxContextSize } = options;
    const contextSize = Math.min(model.trainContextSize, maxContextSize);
    const contexts: EmbeddingContext[] = [];
    try {
      for (let i = 0; i < Math.max(1, count); i++) {
        contexts.push(await model.createEmbeddingContext({
          contextSize, ...(threads === undefined ? {} : { threads }), ...(signal ? { createSignal: signal } : {}),
        }));
      }
    } catch (error) {
      await Promise.all(contexts.map((c) => c.dispose()));
      throw error;
    }
    const poolingId = model.fileInfo.architectureMetadata.pooling_type;
    const pooling = typeof poolingId === 'number' ? POOLING_TYPES[poolingId] : undefined;
    return new LlamaCppEmbedder(model, contexts, pooling, contextSize, options);
  }

  async embed(texts: readonly string[], { pooling, normalize = true }: EmbeddingParams): Promise<number[][]> {
    this.#queue.guard.ensureNotDisposed();
    if (pooling !== undefined && this.pooling !== undefined && pooling !== this.pooling) {
      throw new ModelManagerError('INVALID_ARGUMENT', `this GGUF model pools with "${this.pooling}"; llama-cpp cannot switch to "${pooling}": leave pooling out`, {
        details: { pooling, modelPooling: this.pooling, backend: BACKEND },
      });
    }
    return this.#queue.run(async () => {
      const vectors = new Array<number[]>(texts.length);
      let next = 0;
      // Each context takes the next text when it is done with its last: a batch keeps every context busy.
      const drain = async (context: EmbeddingContext) => {
        for (let i = next++; i < texts.length; i = next++) {
          try {
            const { vector } = await context.getEmbeddingFor(this.#tokensOf(texts[i]!));
            const values = vector.length === 0 ? new Array<number>(this.dimensions).fill(0) : vector;
            vectors[i] = normalize ? l2Normalize(values) : [...values];
          } catch (error) {
            next = texts.length; // the others stop after their current text
            throw error;
          }
        }
      };
      // Settled, not raced: the call ends only once no context works for it any more.
      const failed = (await Promise.allSettled(this.contexts.slice(0, texts.length).map(drain))).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return vectors;
    });
  }

  countTokens(texts: readonly string[]): number[] {
    this.#queue.guard.ensureNotDisposed();
    // What getEmbeddingFor() evaluates: the text's tokens plus the BOS/EOS the model wants.
    return texts.map((t) => this.contexts[0]!.calculateInputLength(this.#tokensOf(t)));
  }

  /**
   * The text's tokens, cut to fit the context as sentence-transformers cuts to max_seq_length
   * (node-llama-cpp adds BOS/EOS and wants the input below the context size). An empty text is
   * embedded as its BOS token, so it still gets a vector.
   */
  #tokensOf(text: string): Token[] {
    const tokens = this.model.tokenize(text, false);
    const room = this.contextSize - 3;
    if (tokens.length > room) return tokens.slice(0, room);
    const bos = this.model.tokens.bos;
    return tokens.length === 0 && bos !== null ? [bos] : tokens;
  }

  async dispose(): Promise<void> {
    if (!this.#queue.guard.dispose()) return;
    await Promise.all(this.contexts.map((c) => c.dispose()));
    await this.model.dispose();
  }
}

export class LlamaCppGenerator implements LoadedModel {
  readonly backend = BACKEND;
  readonly #queue = new SerialQueue();

  readonly device: Device;
  readonly gpuKind: string | undefined;
  readonly warning: string | undefined;
  readonly memoryBytes: number;
  readonly vramBytes: number;

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: Awaited<ReturnType<LlamaModel['createContext']>>,
    private readonly sequence: LlamaContextSequence,
    private readonly completion: InstanceType<NodeLlamaCpp['LlamaCompletion']>,
    { device, gpuKind, warning }: InstanceOptions,
  ) {
    this.device = device;
    this.gpuKind = gpuKind;
    this.warning = warning;
    // On the CPU the context's real state size is known; on a GPU only the estimate splits it between RAM and VRAM.
    ({ memoryBytes: this.memoryBytes, vramBytes: this.vramBytes } = model.gpuLayers === 0
      ? { memoryBytes: model.size + context.stateSize, vramBytes: 0 }
      : memoryOf(model, context.contextSize, 1, false));
  }

  static async create(model: LlamaModel, { LlamaCompletion }: NodeLlamaCpp, options: InstanceOptions): Promise<LlamaCppGenerator> {
    const { threads, signal, maxContextSize } = options;
    const contextSize = Math.min(model.trainContextSize, maxContextSize);
    const context = await model.createContext({
      contextSize, sequences: 1, ...(threads === undefined ? {} : { threads }), ...(signal ? { createSignal: signal } : {}),
    });
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    return new LlamaCppGenerator(model, context, sequence, completion, options);
  }

  generate(prompt: string, { maxTokens = 256, temperature, topK, topP, seed, stop, onToken, signal }: GenerationParams): Promise<GenerationOutput> {
    return this.#queue.run(async () => {
      // Tokenized here so that the prompt's count is the one the model gets (LlamaCompletion adds BOS itself).
      const input = this.#promptTokens(prompt);
      const bos = this.#bos();
      // Every sampled token is one evaluation with logits, which the sequence's meter counts; onToken
      // would miss the tokens still held back when generation ends (an unfinished UTF-8 character).
      const meter = this.sequence.tokenMeter.getState();
      const { response, metadata } = await this.completion.generateCompletionWithMeta(input, {
        maxTokens,
        ...(temperature === undefined ? {} : { temperature }),
        ...(topK === undefined ? {} : { topK }),
        ...(topP === undefined ? {} : { topP }),
        ...(seed === undefined ? {} : { seed }),
        ...(stop && stop.length > 0 ? { customStopTriggers: [...stop] } : {}),
        ...(signal ? { signal, stopOnAbortSignal: true } : {}),
        ...(onToken ? { onTextChunk: onToken } : {}),
      });
      const tokens = this.sequence.tokenMeter.diff(meter).usedOutputTokens;
      return { text: response, tokens, promptTokens: input.length + bos, finishReason: metadata.stopReason === 'maxTokens' ? 'length' : 'stop' };
    });
  }

  /** Tokens each prompt is read as by generate(), BOS included. */
  countTokens(prompts: readonly string[]): number[] {
    this.#queue.guard.ensureNotDisposed();
    return prompts.map((p) => this.#promptTokens(p).length + this.#bos());
  }

  #promptTokens(prompt: string): Token[] {
    return this.model.tokenize(prompt, false, 'trimLeadingSpace');
  }

  #bos(): number {
    return this.model.tokens.shouldPrependBosToken && this.model.tokens.bos !== null ? 1 : 0;
  }

  async dispose(): Promise<void> {
    if (!this.#queue.guard.dispose()) return;
    await this.context.dispose();
    await this.model.dispose();
  }
}
