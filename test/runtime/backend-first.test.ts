/**
 * Backend first, then device: a model's backend is picked from its format, and only that
 * backend is asked which GPUs it can use.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isModelManagerError, loadConfig } from '../../src/index.js';
import { ModelManager, type EmbeddingTaskOutput } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf, writeTinyModels, type TinyModels } from './fixtures.js';

const exec = promisify(execFile);
const dir = tempDir('mm-backend-first-');
let models: TinyModels;

before(async () => {
  models = await writeTinyModels(dir.path);
});
after(() => dir[Symbol.dispose]());

/** Runs `mm embed` and returns what the process imported and started (test/fixtures/record-loads.mjs). */
async function embedAndRecord(model: string, name: string): Promise<{ data: EmbeddingTaskOutput; log: string }> {
  const log = join(dir.path, `${name}.log`);
  const env = { ...process.env, MM_HOME: join(dir.path, 'home'), MM_LOAD_LOG: log, NODE_NO_WARNINGS: '1' };
  const { stdout } = await exec(process.execPath, ['--import', './test/fixtures/record-loads.mjs', 'dist/src/cli/main.js', 'embed', model, 'hello', '--json'], { env, timeout: 300_000 });
  return { data: JSON.parse(stdout) as EmbeddingTaskOutput, log: readFileSync(log, 'utf8') };
}

test('an ONNX embed never imports node-llama-cpp nor starts its GPU check; a GGUF embed does both', async () => {
  const onnx = await embedAndRecord(models.onnxEmbedding, 'onnx');
  assert.equal(onnx.data.embeddings.length, 1);
  assert.equal(onnx.data.device, 'cpu');
  assert.match(onnx.log, /@huggingface\/transformers/);
  assert.doesNotMatch(onnx.log, /node-llama-cpp/);
  assert.doesNotMatch(onnx.log, /llama-gpu-probe/);

  // The recorder sees them when they happen.
  const gguf = await embedAndRecord(models.ggufEmbedding, 'gguf');
  assert.equal(gguf.data.embeddings.length, 1);
  assert.match(gguf.log, /^import .*node-llama-cpp/m);
  assert.match(gguf.log, /^spawn .*llama-gpu-probe/m);
});

test('an ONNX model asked for on a GPU runs on the CPU when onnxruntime has no CUDA provider, and says how to install it', async () => {
  const warnings: string[] = [];
  await using manager = await ModelManager.create({ onWarning: (w) => warnings.push(w) });
  const data = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['hello'], taskType: 'embedding', modelName: models.onnxEmbedding, device: 'cuda:0' }));
  assert.equal(data.device, 'cpu');
  const [transformers] = manager.getStatus().gpus;
  assert.equal(transformers?.backend, 'transformers');
  assert.equal(transformers.kind, false);
  assert.match(transformers.attempts[0]?.reason ?? '', /onnxruntime-node-install=cuda12/);
  assert.match(warnings.join('\n'), /no GPU was found: running on CPU.*onnxruntime-node-install=cuda12/);
});

test('MM_LLAMA_GPU is parsed once in the config: a kind, auto or cpu; anything else is INVALID_CONFIG', () => {
  assert.equal(loadConfig({}).llamaGpu, 'auto');
  assert.equal(loadConfig({ MM_LLAMA_GPU: ' Vulkan ' }).llamaGpu, 'vulkan');
  assert.throws(() => loadConfig({ MM_LLAMA_GPU: 'rocm' }), (e) => isModelManagerError(e, 'INVALID_CONFIG') && /auto, cuda, vulkan, metal, cpu/.test(e.message));
});

test('llamaGpu cpu keeps GGUF models off every GPU without a GPU check; a bad gpuMemoryFraction is refused', async () => {
  await using manager = await ModelManager.create({ llamaGpu: 'cpu', onWarning: () => {} });
  const data = dataOf<EmbeddingTaskOutput>(await manager.task({ taskData: ['hello'], taskType: 'embedding', modelName: models.ggufEmbedding, device: 'gpu' }));
  assert.equal(data.device, 'cpu');
  assert.deepEqual(manager.getStatus().gpus[0], { backend: 'llama-cpp', kind: false, attempts: [], devices: [] });
  await assert.rejects(ModelManager.create({ gpuMemoryFraction: 1.5 }), { code: 'INVALID_ARGUMENT' });
});
