import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { writeTestModel } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

// onnxruntime-node is the engine under @huggingface/transformers; the graphs are checked on it directly.

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const emptyCache = (layers: number, heads: number, headDim: number) =>
  Object.fromEntries(Array.from({ length: layers }, (_, i) => ['key', 'value'].map((kind) => [
    `past_key_values.${i}.${kind}`, new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]),
  ])).flat());

test('the generated GPT-2 graph gives the same next-token logits with and without its key/value cache', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'text_generation', out: dir.path, seed: 4 });
  const session = await ort.InferenceSession.create(join(model.path, 'onnx/model.onnx'));
  const [layers, heads, headDim] = [2, 4, 16]; // the tiny shape
  const tokens = [72, 101, 108, 108, 111];
  const positions = tokens.map((_, i) => i);

  const full = await session.run({
    input_ids: int64(tokens, [1, 5]), attention_mask: int64([1, 1, 1, 1, 1], [1, 5]), position_ids: int64(positions, [1, 5]),
    ...emptyCache(layers, heads, headDim),
  });
  const prefix = await session.run({
    input_ids: int64(tokens.slice(0, 4), [1, 4]), attention_mask: int64([1, 1, 1, 1], [1, 4]), position_ids: int64(positions.slice(0, 4), [1, 4]),
    ...emptyCache(layers, heads, headDim),
  });
  const past = Object.fromEntries(Object.entries(prefix).filter(([name]) => name.startsWith('present.')).map(([name, t]) => [name.replace('present', 'past_key_values'), t]));
  assert.equal(Object.keys(past).length, 2 * layers);
  const step = await session.run({ input_ids: int64([111], [1, 1]), attention_mask: int64([1, 1, 1, 1, 1], [1, 5]), position_ids: int64([4], [1, 1]), ...past });

  const vocab = 257;
  const last = (full.logits!.data as Float32Array).slice(4 * vocab, 5 * vocab);
  const cached = step.logits!.data as Float32Array;
  assert.equal(cached.length, vocab);
  last.forEach((x, i) => assert.ok(Math.abs(x - cached[i]!) < 1e-3, `logit ${i}: ${x} vs ${cached[i]}`));
  // Later tokens must not change earlier positions (causal mask).
  const firstFull = (full.logits!.data as Float32Array).slice(0, vocab);
  const firstPrefix = (prefix.logits!.data as Float32Array).slice(0, vocab);
  firstFull.forEach((x, i) => assert.ok(Math.abs(x - firstPrefix[i]!) < 1e-4));
  await session.release();
});

test('the generated BERT graph ignores padding: a padded row equals the unpadded one', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: dir.path });
  const session = await ort.InferenceSession.create(join(model.path, 'onnx/model.onnx'));
  const alone = await session.run({ input_ids: int64([2, 60, 61, 3], [1, 4]), attention_mask: int64([1, 1, 1, 1], [1, 4]), token_type_ids: int64([0, 0, 0, 0], [1, 4]) });
  const padded = await session.run({ input_ids: int64([2, 60, 61, 3, 0, 0], [1, 6]), attention_mask: int64([1, 1, 1, 1, 0, 0], [1, 6]), token_type_ids: int64([0, 0, 0, 0, 0, 0], [1, 6]) });
  const a = alone.last_hidden_state!.data as Float32Array;
  const b = (padded.last_hidden_state!.data as Float32Array).slice(0, a.length);
  assert.equal(a.length, 4 * 32);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-4, `component ${i}`));
  await session.release();
});
