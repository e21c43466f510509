import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { writeTestModel } from '../../src/index.js';
import { OnnxGraphBuilder } from '../../src/testmodels/onnx-graph.js';
import { T5Layers } from '../../src/testmodels/onnx-t5-layers.js';
import { tempDir } from '../helpers/tmp.js';

// The T5 graphs are checked on onnxruntime-node directly, then against transformers.js driving them.

const int64 = (values: readonly number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const useCacheBranch = (on: boolean) => new ort.Tensor('bool', [on], [1]);
const [LAYERS, HEADS, HEAD_DIM, VOCAB] = [2, 4, 8, 512]; // the tiny shape
const CACHE_NAMES = Array.from({ length: LAYERS }, (_, i) => ['decoder', 'encoder'].flatMap((part) => ['key', 'value'].map((kind) => `${i}.${part}.${kind}`))).flat();
const emptyPast = (): Record<string, ort.Tensor> => Object.fromEntries(CACHE_NAMES.map((name) => [`past_key_values.${name}`, new ort.Tensor('float32', new Float32Array(0), [1, HEADS, 0, HEAD_DIM])]));
const ones = (n: number) => Array.from({ length: n }, () => 1);

async function sessions(path: string) {
  return {
    encoder: await ort.InferenceSession.create(join(path, 'onnx/encoder_model.onnx')),
    decoder: await ort.InferenceSession.create(join(path, 'onnx/decoder_model_merged.onnx')),
  };
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < tolerance, `${what}, component ${i}: ${x} vs ${expected[i]}`));
}

const row = (logits: ort.Tensor, position: number) => (logits.data as Float32Array).slice(position * VOCAB, (position + 1) * VOCAB);

test('relative position buckets are those of T5 (exact up close, logarithmic to the maximum distance, half per direction in the encoder)', async () => {
  const g = new OnnxGraphBuilder();
  const t5 = new T5Layers(g, 1, 1e-6);
  const relative = g.input('relative', 'int64', ['n']);
  const positions = { buckets: 32, maxDistance: 128 };
  g.output(t5.relativeBuckets(relative, positions, true), 'bidirectional', 'int64', ['n']);
  g.output(t5.relativeBuckets(relative, positions, false), 'causal', 'int64', ['n']);
  const session = await ort.InferenceSession.create(g.encode({ name: 'buckets', opset: 17 }));
  // Key position minus query position, and the buckets transformers' _relative_position_bucket gives
  // (worked by hand: 16 buckets a direction, 8 exact, log(d/8)/log(16)*8 past that; causal: 32, 16 exact, log(d/16)/log(8)*16).
  const distances = [0, -1, 1, -7, 7, -8, 8, -15, -20, 20, -100, -127, 127, -500, 500, -1000];
  const bidirectional = [0, 1, 17, 7, 23, 8, 24, 9, 10, 26, 15, 15, 31, 15, 31, 15];
  const causal = [0, 1, 0, 7, 0, 8, 0, 15, 17, 0, 30, 31, 0, 31, 0, 31];
  const out = await session.run({ relative: int64(distances, [distances.length]) });
  assert.deepEqual([...(out.bidirectional!.data as BigInt64Array)].map(Number), bidirectional);
  assert.deepEqual([...(out.causal!.data as BigInt64Array)].map(Number), causal);
  await session.release();
});

test('the T5 decoder gives the same logits stepping with its cache (use_cache_branch) as recomputing without it', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'text2text', out: dir.path, seed: 3 });
  const { encoder, decoder } = await sessions(model.path);
  const source = [60, 61, 62, 63, 1];
  const { last_hidden_state: states } = await encoder.run({ input_ids: int64(source, [1, 5]), attention_mask: int64(ones(5), [1, 5]) });
  const encoderSide = { encoder_hidden_states: states!, encoder_attention_mask: int64(ones(5), [1, 5]) };
  const targets = [0, 200, 201, 202];
  const full = await decoder.run({ ...encoderSide, input_ids: int64(targets, [1, 4]), ...emptyPast(), use_cache_branch: useCacheBranch(false) });

  let past = emptyPast();
  for (const [i, token] of targets.entries()) {
    const step = await decoder.run({ ...encoderSide, input_ids: int64([token], [1, 1]), ...past, use_cache_branch: useCacheBranch(i > 0) });
    assertClose(row(step.logits!, 0), row(full.logits!, i), 1e-3, `step ${i}`);
    // As transformers.js keeps them: the decoder's keys grow, the encoder's come from the first step.
    past = Object.fromEntries(CACHE_NAMES.map((name) => [`past_key_values.${name}`, i > 0 && name.includes('encoder') ? past[`past_key_values.${name}`]! : step[`present.${name}`]!]));
    assert.deepEqual(past['past_key_values.0.decoder.key']!.dims, [1, HEADS, i + 1, HEAD_DIM]);
    assert.deepEqual(past['past_key_values.1.encoder.value']!.dims, [1, HEADS, 5, HEAD_DIM]);
  }
  await encoder.release();
  await decoder.release();
});

test('padding changes neither the encoder states of the real tokens nor what the decoder reads from them', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'text2text', out: dir.path });
  const { encoder, decoder } = await sessions(model.path);
  const alone = await encoder.run({ input_ids: int64([70, 71, 1], [1, 3]), attention_mask: int64(ones(3), [1, 3]) });
  const paddedMask = int64([1, 1, 1, 0, 0], [1, 5]);
  const padded = await encoder.run({ input_ids: int64([70, 71, 1, 0, 0], [1, 5]), attention_mask: paddedMask });
  const a = alone.last_hidden_state!.data as Float32Array;
  assertClose((padded.last_hidden_state!.data as Float32Array).slice(0, a.length), a, 1e-4, 'encoder state');

  const first = (states: ort.Tensor, mask: ort.Tensor) => decoder.run({ encoder_hidden_states: states, encoder_attention_mask: mask, input_ids: int64([0], [1, 1]), ...emptyPast(), use_cache_branch: useCacheBranch(false) });
  const fromAlone = await first(alone.last_hidden_state!, int64(ones(3), [1, 3]));
  const fromPadded = await first(padded.last_hidden_state!, paddedMask);
  assertClose(row(fromPadded.logits!, 0), row(fromAlone.logits!, 0), 1e-4, 'logits');
  await encoder.release();
  await decoder.release();
});

test('transformers.js loads the T5 folder and its greedy generation equals greedy decoding by hand without the cache', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'text2text', out: dir.path, seed: 5 });
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const pipe = await pipeline('text2text-generation', model.path, { device: 'cpu', dtype: 'fp32' });
  const inputs = await pipe.tokenizer('hello world, summarize the text');
  const sourceIds = (inputs.input_ids.tolist() as bigint[][])[0]!.map(Number);
  assert.equal(sourceIds.at(-1), 1, 'the tokenizer ends the text with </s>');
  const generated = await pipe.model.generate({ ...inputs, max_new_tokens: 6, do_sample: false }) as { tolist(): bigint[][] };
  const viaTransformers = generated.tolist()[0]!.map(Number);
  await pipe.dispose();

  const { encoder, decoder } = await sessions(model.path);
  const mask = int64(ones(sourceIds.length), [1, sourceIds.length]);
  const { last_hidden_state: states } = await encoder.run({ input_ids: int64(sourceIds, [1, sourceIds.length]), attention_mask: mask });
  const byHand = [0]; // decoder_start_token_id
  while (byHand.length <= 6) {
    const out = await decoder.run({ encoder_hidden_states: states!, encoder_attention_mask: mask, input_ids: int64(byHand, [1, byHand.length]), ...emptyPast(), use_cache_branch: useCacheBranch(false) });
    const logits = row(out.logits!, byHand.length - 1);
    byHand.push(logits.indexOf(Math.max(...logits)));
  }
  assert.deepEqual(viaTransformers, byHand);
  await encoder.release();
  await decoder.release();
});
