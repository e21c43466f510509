import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TransformersBackend } from '../../src/runtime/backends/transformers.js';
import { isModelManagerError } from '../../src/index.js';
import { writeTestModel } from '../../src/testmodels/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runBackendContract } from './backend-contract.js';

runBackendContract({
  name: 'transformers',
  create: () => new TransformersBackend(),
  async embeddingModel(dir) {
    const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: dir });
    return { path: model.path, dimensions: 32 };
  },
  generationModels: {
    'GPT-2 decoder': (dir) => writeTestModel({ format: 'onnx', task: 'text_generation', out: dir }),
    'T5 encoder-decoder': (dir) => writeTestModel({ format: 'onnx', task: 'text2text', out: dir }),
  },
  async corruptModels(dir) {
    const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir, 'source') });
    const truncated = join(dir, 'truncated');
    cpSync(model.path, truncated, { recursive: true });
    const graph = readFileSync(join(model.path, 'onnx/model.onnx'));
    writeFileSync(join(truncated, 'onnx/model.onnx'), graph.subarray(0, graph.length / 2));
    const junk = join(dir, 'junk');
    cpSync(model.path, junk, { recursive: true });
    writeFileSync(join(junk, 'onnx/model.onnx'), 'not a protobuf');
    return [{ what: 'truncated graph', path: truncated }, { what: 'junk graph', path: junk }];
  },
});

test('transformers: CLS pooling differs from mean pooling, and a sentence-transformers CLS config becomes the default', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: dir.path });
  const backend = new TransformersBackend();
  const meanModel = await backend.load({ path: model.path, taskType: 'embedding', device: 'cpu' });
  const [mean] = await meanModel.embed!(['pool me'], {});
  const [cls] = await meanModel.embed!(['pool me'], { pooling: 'cls' });
  await assert.rejects(meanModel.embed!(['pool me'], { pooling: 'none' }), { code: 'INVALID_ARGUMENT' });
  await meanModel.dispose();
  assert.notDeepEqual(mean, cls);

  writeFileSync(join(model.path, 'modules.json'), JSON.stringify([{ idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' }]));
  mkdirSync(join(model.path, '1_Pooling'));
  writeFileSync(join(model.path, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }));
  const clsModel = await backend.load({ path: model.path, taskType: 'embedding', device: 'cpu' });
  const [byDefault] = await clsModel.embed!(['pool me'], {});
  await clsModel.dispose();
  assert.deepEqual(byDefault, cls);
});

test('transformers: loads from the .onnx file path too, and runs on the CPU whatever was asked', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: dir.path });
  const backend = new TransformersBackend();
  const file = join(model.path, 'onnx', 'model.onnx');
  assert.equal(await backend.supports({ path: file }), true);
  assert.equal(await backend.estimateBytes({ path: file }), readFileSync(file).length);
  const loaded = await backend.load({ path: file, taskType: 'embedding', device: 'gpu' });
  assert.equal(loaded.device, 'cpu');
  assert.match(loaded.warning ?? '', /running on the CPU/);
  await loaded.dispose();
});

test('transformers: a T5 folder is sized by both its graphs, and one missing its decoder names the file to restore', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'text2text', out: dir.path });
  const backend = new TransformersBackend();
  const graphs = ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'].map((f) => readFileSync(join(model.path, f)).length);
  assert.equal(await backend.estimateBytes({ path: model.path }), graphs[0]! + graphs[1]!);
  const loaded = await backend.load({ path: model.path, taskType: 'text_generation', device: 'cpu' });
  assert.equal(loaded.memoryBytes, graphs[0]! + graphs[1]!);
  await loaded.dispose();

  rmSync(join(model.path, 'onnx/decoder_model_merged.onnx'));
  await assert.rejects(backend.load({ path: model.path, taskType: 'text_generation', device: 'cpu' }),
    (e) => isModelManagerError(e, 'MODEL_LOAD_FAILED') && e.message.includes('onnx/decoder_model_merged.onnx'));
});

test('transformers: a T5 generates from what its encoder read, and is refused for embeddings', async () => {
  using dir = tempDir();
  const model = await writeTestModel({ format: 'onnx', task: 'text2text', out: dir.path });
  const backend = new TransformersBackend();
  const generator = await backend.load({ path: model.path, taskType: 'text_generation', device: 'cpu' });
  const params = { maxTokens: 8, temperature: 0 };
  const [a, b] = [await generator.generate!('summarize: the model is small', params), await generator.generate!('translate: hello world', params)];
  await generator.dispose();
  assert.notEqual(a.text, b.text, 'greedy decoding differs only through the encoder states');
  await assert.rejects(backend.load({ path: model.path, taskType: 'embedding', device: 'cpu' }),
    (e) => isModelManagerError(e, 'UNSUPPORTED_TASK') && /encoder-decoder/.test(e.message));
});
