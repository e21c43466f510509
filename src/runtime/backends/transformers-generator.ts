/**
 * Text generation of the `transformers` backend: decoder ONNX models through the text-generation
 * pipeline and encoder-decoder ones (T5, BART) through text2text-generation, streamed token by
 * token, with stop strings and a seed.
 */
import type { Text2TextGenerationPipeline, TextGenerationPipeline } from '@huggingface/transformers';
import type { Device, GenerationOutput, GenerationParams, LoadedModel } from './backend.js';
import { DisposeGuard } from './dispose-guard.js';
import type { Transformers, TransformersPlacement } from './transformers.js';

/**
 * Sampling in transformers.js draws from one process-wide generator; generations run one at a
 * time so that a seed gives the same text whatever else is running.
 */
let generationTail: Promise<unknown> = Promise.resolve();
function oneGenerationAtATime<T>(work: () => Promise<T>): Promise<T> {
  const next = generationTail.then(work, work);
  generationTail = next.catch(() => undefined);
  return next;
}

/** Index of the first stop string in `text`, or -1. */
function firstStop(text: string, stop: readonly string[]): number {
  const found = stop.filter((s) => s !== '').map((s) => text.indexOf(s)).filter((i) => i >= 0);
  return found.length === 0 ? -1 : Math.min(...found);
}

export class TransformersGenerator implements LoadedModel {
  readonly backend = 'transformers';
  readonly device: Device;
  readonly gpuKind: string | undefined;
  readonly warning: string | undefined;
  readonly #guard = new DisposeGuard('transformers');

  constructor(
    private readonly pipe: TextGenerationPipeline | Text2TextGenerationPipeline,
    private readonly transformers: Transformers,
    readonly memoryBytes: number | undefined,
    { device, gpuKind, warning }: TransformersPlacement,
    readonly vramBytes = 0,
  ) {
    this.device = device;
    this.gpuKind = gpuKind;
    this.warning = warning;
  }

  /** Tokens each prompt is read as: by the encoder of an encoder-decoder, as the prompt of a decoder. */
  countTokens(prompts: readonly string[]): number[] {
    this.#guard.ensureNotDisposed();
    return prompts.map((p) => this.pipe.tokenizer.encode(p).length);
  }

  async generate(prompt: string, { maxTokens = 256, temperature, topK, topP, seed, stop = [], onToken, signal }: GenerationParams): Promise<GenerationOutput> {
    this.#guard.ensureNotDisposed();
    const { BaseStreamer, StoppingCriteria, StoppingCriteriaList, random } = this.transformers;
    const tokenizer = this.pipe.tokenizer;
    return oneGenerationAtATime(async () => {
      // Disposed while it waited for the generation before it.
      this.#guard.ensureNotDisposed();
      const ids: bigint[] = [];
      let text = '';
      let stopAt = -1;
      let promptTokens: number | undefined;
      // Decodes everything generated so far and hands on the new part, holding back an
      // incomplete UTF-8 sequence (shown as U+FFFD) until its last byte arrives.
      class PieceStreamer extends BaseStreamer {
        override put(value: bigint[][]): void {
          // generate() first puts the ids it starts from: a decoder's prompt, an encoder-decoder's start token.
          if (promptTokens === undefined) {
            promptTokens = value[0]?.length ?? 0;
            return;
          }
          ids.push(...(value[0] ?? []));
          const decoded = tokenizer.decode(ids, { skip_special_tokens: true });
          if (decoded.endsWith('\uFFFD') || stopAt >= 0) return;
          const stopIndex = firstStop(decoded, stop);
          const visible = stopIndex >= 0 ? decoded.slice(0, stopIndex) : decoded;
          if (visible.length > text.length) onToken?.(visible.slice(text.length));
          text = visible;
          stopAt = stopIndex;
        }
        override end(): void {}
      }
      class StopOnTextOrAbort extends StoppingCriteria {
        override _call(inputIds: number[][]): boolean[] {
          const done = stopAt >= 0 || signal?.aborted === true;
          return inputIds.map(() => done);
        }
      }
      const criteria = new StoppingCriteriaList();
      criteria.push(new StopOnTextOrAbort());
      if (seed !== undefined) random.seed(seed);
      const sample = temperature !== undefined && temperature > 0;
      // Both pipelines take the generation options; return_full_text only matters to decoders.
      const run = this.pipe as (text: string, options: Record<string, unknown>) => Promise<unknown>;
      await run(prompt, {
        max_new_tokens: maxTokens,
        do_sample: sample,
        ...(sample ? { temperature } : {}),
        ...(topK === undefined ? {} : { top_k: topK }),
        ...(topP === undefined ? {} : { top_p: topP }),
        return_full_text: false,
        // generate() only calls put() and end() of a streamer.
        streamer: new PieceStreamer(),
        stopping_criteria: criteria,
      });
      const finishReason = stopAt < 0 && ids.length >= maxTokens ? 'length' : 'stop';
      // An encoder-decoder reads the prompt through its encoder: count it with the tokenizer.
      if (this.pipe.model.config.is_encoder_decoder) promptTokens = tokenizer.encode(prompt).length;
      return { text, tokens: ids.length, promptTokens: promptTokens ?? 0, finishReason };
    });
  }

  async dispose(): Promise<void> {
    if (this.#guard.dispose()) await this.pipe.dispose();
  }
}
