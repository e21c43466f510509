/**
 * A stand-in for ModelManager with scripted answers, used only for what the real runtime
 * cannot be made to do on demand (a full queue at a chosen moment, a failure after the
 * first streamed token). Route tests against the real ModelManager live in runtime-real.test.ts.
 */
import type { LoadedModelLike, ResultLike, RuntimeService, TaskInput } from '../../src/index.js';

export class ScriptedRuntime implements RuntimeService {
  /** The checked requests the server ran, in order. */
  readonly inputs: TaskInput[] = [];
  readonly released: string[] = [];
  loaded: LoadedModelLike[] = [];
  /** The next task answers with this failure instead. */
  failNext?: { code: string; message: string; details?: Record<string, unknown> };
  /** Streamed tokens of text generation; with `failAfter`, fails after that many. */
  tokens = ['Once', ' upon', ' a', ' time'];
  failAfter?: number;
  /** Milliseconds each token waits (to let a client hang up mid-stream). */
  tokenDelayMs = 0;

  async run(input: TaskInput): Promise<ResultLike> {
    this.inputs.push(input);
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      return { success: false, error };
    }
    if (input.kind === 'embedding' && input.texts) {
      const texts = input.texts;
      return { success: true, data: { embeddings: texts.map((t, i) => [t.length, i, 0.5]), model: input.modelName, dimensions: 3, cached: 0, usage: { tokens: texts.join(' ').length } } };
    }
    if (input.kind !== 'text_generation' || input.prompt === null) return { success: true, data: { preloaded: true, modelName: input.modelName, workers: 1, device: 'cpu', keepAliveMinutes: 0 } };
    let text = '';
    for (const [i, token] of this.tokens.entries()) {
      if (this.failAfter !== undefined && i >= this.failAfter) return { success: false, error: { code: 'TASK_FAILED', message: 'the backend crashed' } };
      if (this.tokenDelayMs) await new Promise((r) => setTimeout(r, this.tokenDelayMs));
      input.onToken?.(token);
      text += token;
    }
    return { success: true, data: { generatedText: text, model: input.modelName, tokens: this.tokens.length, finishReason: 'length' } };
  }

  ps(): LoadedModelLike[] {
    return this.loaded;
  }

  async releaseModel(name: string): Promise<boolean> {
    this.released.push(name);
    return true;
  }

  getStatus() {
    return { cache: { hits: 7, misses: 3, entries: 10 } };
  }
}
