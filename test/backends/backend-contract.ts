/**
 * What every inference backend must do, run against the real backends on generated models:
 * embeddings (dimension, determinism, normalisation, distinct texts) and, on each generation model
 * the backend is tested on, text generation (maxTokens, seed, streaming, stop strings); bad files give
 * MODEL_LOAD_FAILED naming the path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InferenceBackend, LoadedModel } from '../../src/runtime/backends/backend.js';
import { isModelManagerError } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

export interface BackendContract {
  name: string;
  create(): InferenceBackend;
  /** Writes an embedding model into `dir`; returns its path and vector length. */
  embeddingModel(dir: string): Promise<{ path: string; dimensions: number }>;
  /** Writers of the text generation models the backend is tested on, by kind (decoder, encoder-decoder). */
  generationModels?: Record<string, (dir: string) => Promise<{ path: string }>>;
  /** Writes a damaged copy of a model into `dir` (truncated or junk weights). */
  corruptModels(dir: string): Promise<{ what: string; path: string }[]>;
}

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const disposed = (error: unknown) => isModelManagerError(error, 'MODEL_DISPOSED');

export function runBackendContract(contract: BackendContract): void {
  describe(`${contract.name} backend contract`, () => {
    const dir = tempDir(`mm-${contract.name}-`);
    const backend = contract.create();
    let embedder: LoadedModel;
    let dimensions: number;

    before(async () => {
      const model = await contract.embeddingModel(`${dir.path}/embedding`);
      dimensions = model.dimensions;
      assert.equal(await backend.supports({ path: model.path }), true);
      embedder = await backend.load({ path: model.path, taskType: 'embedding', device: 'cpu' });
    });
    after(async () => {
      await embedder?.dispose();
      dir[Symbol.dispose]();
    });

    test('embeddings have the model dimension, one per text, and say where they ran', async () => {
      const vectors = await embedder.embed!(['hello world', 'a second text', 'third'], {});
      assert.equal(vectors.length, 3);
      for (const v of vectors) assert.equal(v.length, dimensions);
      assert.equal(embedder.dimensions, dimensions);
      assert.equal(embedder.device, 'cpu');
      assert.equal(embedder.backend, backend.name);
      assert.ok(embedder.memoryBytes === undefined || embedder.memoryBytes > 0);
    });

    test('embeddings are deterministic, normalised by default, raw when asked, and differ between texts', async () => {
      const [a, b, again] = await embedder.embed!(['the same text', 'another text entirely', 'the same text'], {});
      assert.deepEqual(again, a);
      assert.notDeepEqual(a, b);
      assert.ok(Math.abs(norm(a!) - 1) < 1e-6, `norm ${norm(a!)}`);
      const [raw] = await embedder.embed!(['the same text'], { normalize: false });
      assert.ok(Math.abs(norm(raw!) - 1) > 1e-3, 'a raw vector of random weights is not unit length');
      const scaled = raw!.map((x) => x / norm(raw!));
      scaled.forEach((x, i) => assert.ok(Math.abs(x - a![i]!) < 1e-5));
    });

    test('an empty text and a text longer than the model takes both embed (the long one truncated)', async () => {
      const long = 'many words '.repeat(400);
      const [empty, cut, longer] = await embedder.embed!(['', long, `${long} and more`], {});
      assert.equal(empty!.length, dimensions);
      assert.ok(Math.abs(norm(cut!) - 1) < 1e-6);
      assert.deepEqual(longer, cut, 'what lies past the limit is cut off');
    });

    test('concurrent calls give the same vectors as sequential ones', async () => {
      const [a, b] = await Promise.all([embedder.embed!(['alpha text'], {}), embedder.embed!(['beta text', 'gamma'], {})]);
      assert.deepEqual(await embedder.embed!(['alpha text'], {}), a);
      assert.deepEqual(await embedder.embed!(['beta text', 'gamma'], {}), b);
    });

    test('a batch gives the same vectors as one text at a time', async () => {
      const texts = ['short', 'a much longer text with many more words in it'];
      const batch = await embedder.embed!(texts, {});
      for (const [i, text] of texts.entries()) {
        const [single] = await embedder.embed!([text], {});
        single!.forEach((x, k) => assert.ok(Math.abs(x - batch[i]![k]!) < 1e-4, `text ${i} component ${k}`));
      }
    });

    test('dispose frees the instance: every method refuses with MODEL_DISPOSED afterwards, and a second dispose changes nothing', async () => {
      const model = await contract.embeddingModel(`${dir.path}/embedding-dispose`);
      const loaded = await backend.load({ path: model.path, taskType: 'embedding', device: 'cpu' });
      assert.equal((await loaded.embed!(['before'], {})).length, 1, 'it runs before');
      assert.equal((await loaded.countTokens!(['before'])).length, 1, 'and counts tokens');
      await loaded.dispose();
      await assert.rejects(loaded.embed!(['after'], {}), disposed, 'a disposed instance does not embed');
      // Refused before anything is awaited, whether the backend counts at once or asynchronously.
      await assert.rejects(async () => loaded.countTokens!(['after']), disposed, 'nor count tokens');
      await assert.doesNotReject(loaded.dispose(), 'disposing again is a no-op');
      await assert.rejects(loaded.embed!(['after'], {}), disposed, 'and it still does not run');
    });

    test('damaged model files fail with MODEL_LOAD_FAILED naming the path', async () => {
      for (const { what, path } of await contract.corruptModels(`${dir.path}/corrupt`)) {
        await assert.rejects(
          backend.load({ path, taskType: 'embedding', device: 'cpu' }),
          (e) => isModelManagerError(e, 'MODEL_LOAD_FAILED') && e.message.includes(path),
          what,
        );
      }
    });

    test('a folder of another format is not claimed', async () => {
      assert.equal(await backend.supports({ path: dir.path, format: 'safetensors' }), false);
      assert.equal(await backend.supports({ path: `${dir.path}/nothing-here` }), false);
    });

    for (const [kind, generationModel] of Object.entries(contract.generationModels ?? {})) {
      describe(`text generation (${kind})`, () => {
        let generator: LoadedModel;
        before(async () => {
          const model = await generationModel(`${dir.path}/generation-${kind}`);
          generator = await backend.load({ path: model.path, taskType: 'text_generation', device: 'cpu' });
        });
        after(() => generator?.dispose());

        test('returns text within maxTokens', async () => {
          const out = await generator.generate!('Once upon a time', { maxTokens: 8, temperature: 0 });
          assert.ok(out.text.length > 0);
          assert.ok(out.tokens > 0 && out.tokens <= 8, `${out.tokens} tokens`);
          if (out.tokens === 8) assert.equal(out.finishReason, 'length');
        });

        test('the same seed gives the same text, another seed another text', async () => {
          const params = { maxTokens: 16, temperature: 1 };
          const a = await generator.generate!('hello', { ...params, seed: 11 });
          const b = await generator.generate!('hello', { ...params, seed: 11 });
          const c = await generator.generate!('hello', { ...params, seed: 12 });
          assert.equal(a.text, b.text);
          assert.notEqual(a.text, c.text);
        });

        test('concurrent calls on one instance give what one call after the other gives', async () => {
          const params = { maxTokens: 10, temperature: 0.8, seed: 3 };
          const [a, b] = await Promise.all([generator.generate!('first prompt', params), generator.generate!('second prompt', params)]);
          assert.equal((await generator.generate!('first prompt', params)).text, a.text);
          assert.equal((await generator.generate!('second prompt', params)).text, b.text);
        });

        test('streams the text piece by piece', async () => {
          const pieces: string[] = [];
          const out = await generator.generate!('stream this', { maxTokens: 6, temperature: 0, onToken: (t) => pieces.push(t) });
          assert.ok(pieces.length > 1);
          assert.equal(pieces.join(''), out.text);
        });

        test('a disposed generator refuses to generate or count a prompt\'s tokens with MODEL_DISPOSED', async () => {
          const model = await generationModel(`${dir.path}/generation-${kind}-dispose`);
          const loaded = await backend.load({ path: model.path, taskType: 'text_generation', device: 'cpu' });
          assert.ok((await loaded.countTokens!(['Once upon a time']))[0]! > 0, 'it counts before');
          await loaded.dispose();
          await assert.rejects(loaded.generate!('Once upon a time', { maxTokens: 2 }), disposed);
          await assert.rejects(async () => loaded.countTokens!(['Once upon a time']), disposed);
          await assert.doesNotReject(loaded.dispose());
        });

        test('stops at a stop string', async () => {
          const free = await generator.generate!('abc', { maxTokens: 12, temperature: 0 });
          const stop = [...free.text].slice(2).find((ch) => ch.trim() !== '');
          assert.ok(stop !== undefined, `no visible character to stop at in ${JSON.stringify(free.text)}`);
          const out = await generator.generate!('abc', { maxTokens: 12, temperature: 0, stop: [stop] });
          assert.equal(out.text.includes(stop), false);
          assert.equal(out.text, free.text.slice(0, free.text.indexOf(stop)));
        });
      });
    }
  });
}
