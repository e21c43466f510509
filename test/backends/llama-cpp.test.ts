import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, statSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LlamaCppBackend } from '../../src/runtime/backends/llama-cpp.js';
import { isModelManagerError, writeTestModel } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runBackendContract } from './backend-contract.js';

const ggufIn = (dir: string) => join(dir, readdirSync(dir).find((f) => f.endsWith('.gguf'))!);

runBackendContract({
  name: 'llama-cpp',
  create: () => new LlamaCppBackend(),
  async embeddingModel(dir) {
    const model = await writeTestModel({ format: 'gguf', task: 'embedding', out: dir });
    return { path: model.path, dimensions: 64 };
  },
  generationModels: { llama: (dir) => writeTestModel({ format: 'gguf', task: 'text_generation', out: dir }) },
  async corruptModels(dir) {
    const model = await writeTestModel({ format: 'gguf', task: 'embedding', out: join(dir, 'source') });
    const source = ggufIn(model.path);
    const truncated = join(dir, 'truncated.gguf');
    copyFileSync(source, truncated);
    truncateSync(truncated, Math.floor(statSync(source).size / 2));
    const junk = join(dir, 'junk', 'model.gguf');
    mkdirSync(join(dir, 'junk'));
    writeFileSync(junk, 'this is not a GGUF file at all, only text');
    return [{ what: 'truncated', path: truncated }, { what: 'junk', path: junk }];
  },
});

test('llama-cpp: a folder without a GGUF file fails with MODEL_LOAD_FAILED', async () => {
  using dir = tempDir();
  await assert.rejects(new LlamaCppBackend().load({ path: dir.path, taskType: 'embedding', device: 'cpu' }), { code: 'MODEL_LOAD_FAILED' });
});

test('llama-cpp: a truncated file says which tensor is missing', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'gguf', task: 'text_generation', out: dir.path });
  const file = ggufIn(model.path);
  truncateSync(file, statSync(file).size - 1000);
  await assert.rejects(new LlamaCppBackend().load({ path: model.path, taskType: 'text_generation', device: 'cpu' }),
    (e) => isModelManagerError(e, 'MODEL_LOAD_FAILED') && e.message.includes(file) && /tensor 'output\.weight'.*not within the file bounds/.test(e.message));
});

test('llama-cpp: estimates memory from the header, and refuses task types it does not run', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'gguf', task: 'text_generation', out: dir.path });
  const backend = new LlamaCppBackend();
  const estimate = await backend.estimateBytes({ path: model.path });
  assert.ok(estimate !== undefined && estimate > statSync(ggufIn(model.path)).size, `estimate ${estimate}`);
  await assert.rejects(backend.load({ path: model.path, taskType: 'image_classification', device: 'cpu' }), { code: 'UNSUPPORTED_TASK' });
});

test('llama-cpp: a GPU request runs on the GPU when llama.cpp has one, else on the CPU, and says which', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path });
  const backend = new LlamaCppBackend();
  const loaded = await backend.load({ path: model.path, taskType: 'embedding', device: 'gpu' });
  try {
    const [vector] = await loaded.embed!(['on whatever device there is'], {});
    assert.equal(vector!.length, 64);
    const { kind } = await backend.gpus();
    assert.equal(loaded.device, kind === false ? 'cpu' : 'gpu');
    assert.equal(loaded.gpuKind, kind === false ? undefined : kind);
    if (kind === false) assert.match(loaded.warning ?? '', /running on the CPU/);
  } finally {
    await loaded.dispose();
  }
});

test('llama-cpp: the bench-size bert (F16 matrices, MiniLM shape) loads and embeds', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path, size: 'bench' });
  const loaded = await new LlamaCppBackend().load({ path: model.path, taskType: 'embedding', device: 'cpu' });
  try {
    const [a, b] = await loaded.embed!(['first text', 'second text'], {});
    assert.equal(a!.length, 384);
    assert.notDeepEqual(a, b);
  } finally {
    await loaded.dispose();
  }
});

test('llama-cpp: an embedder spreads a batch over its contexts, each holding memory, with the vectors of one context', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path });
  const texts = Array.from({ length: 7 }, (_, i) => `text number ${i} ${'x'.repeat(i * 3)}`);
  const one = await new LlamaCppBackend({ embeddingContexts: 1 }).load({ path: model.path, taskType: 'embedding', device: 'cpu' });
  const three = await new LlamaCppBackend({ embeddingContexts: 3 }).load({ path: model.path, taskType: 'embedding', device: 'cpu' });
  try {
    assert.ok(three.memoryBytes! > one.memoryBytes!, `3 contexts ${three.memoryBytes} B, 1 context ${one.memoryBytes} B`);
    const [a, b] = [await one.embed!(texts, {}), await three.embed!(texts, {})];
    assert.equal(b.length, texts.length);
    a.forEach((vector, i) => vector.forEach((x, d) => assert.ok(Math.abs(x - b[i]![d]!) < 1e-5, `text ${i} dim ${d}`)));
  } finally {
    await one.dispose();
    await three.dispose();
  }
});

test('llama-cpp: an estimate is remembered for the same file, and read again once the file changed', async () => {
  using dir = tempDir();
  const backend = new LlamaCppBackend();
  const tiny = await writeTestModel({ format: 'gguf', task: 'text_generation', out: dir.path });
  const first = await backend.estimateBytes({ path: tiny.path });
  assert.equal(await backend.estimateBytes({ path: tiny.path }), first);
  using other = tempDir();
  const small = await writeTestModel({ format: 'gguf', task: 'text_generation', out: other.path, size: 'small' });
  copyFileSync(ggufIn(small.path), ggufIn(tiny.path)); // the same path, other bytes
  const second = await backend.estimateBytes({ path: tiny.path });
  assert.ok(second !== undefined && first !== undefined && second > first, `small ${second} B after tiny ${first} B`);
});
