/**
 * A generated T5 encoder-decoder through `ModelManager.task()` and the CLI (`mm testmodel --task
 * text2text`, `mm generate`): the transformers backend picks the seq2seq path from config.json.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ModelManager, writeTestModel, type GenerationTaskOutput } from '../../src/index.js';
import { runMm } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf } from './fixtures.js';

const dir = tempDir('mm-seq2seq-');
const env = { ...process.env, MM_HOME: join(dir.path, 'home'), MM_STORE: 'sqlite', MM_DB: '', NODE_NO_WARNINGS: '1' };
let t5: string;
let manager: ModelManager;

const mm = (...args: string[]) => runMm(args, env);

before(async () => {
  t5 = (await writeTestModel({ format: 'onnx', task: 'text2text', out: join(dir.path, 't5') })).path;
  manager = await ModelManager.create({ modelRoots: [dir.path] });
});
after(async () => {
  await manager?.shutdown();
  dir[Symbol.dispose]();
});

test('task() generates text from a T5 on the transformers backend, streamed, within maxTokens', async () => {
  const pieces: string[] = [];
  const data = dataOf<GenerationTaskOutput>(await manager.task({ taskData: 'summarize: a small model', taskType: 'text_generation', modelName: t5, maxTokens: 6, temperature: 0, onToken: (t) => pieces.push(t) }));
  assert.ok(data.generatedText.trim().length > 0);
  assert.ok(data.tokens > 0 && data.tokens <= 6, `${data.tokens} tokens`);
  assert.equal(pieces.join(''), data.generatedText);
  const status = manager.getModelStatus(t5);
  assert.equal(status?.backend, 'transformers');
  const graphs = ['encoder_model.onnx', 'decoder_model_merged.onnx'].reduce((sum, f) => sum + statSync(join(t5, 'onnx', f)).size, 0);
  assert.equal(status?.sizeBytes, graphs, 'the budget counts both graphs');
});

test('task() refuses embeddings from a T5 with UNSUPPORTED_TASK', async () => {
  const result = await manager.task({ taskData: ['x'], taskType: 'embedding', modelName: t5 });
  assert.equal(result.success, false);
  if (!result.success) assert.equal(result.error.code, 'UNSUPPORTED_TASK');
});

test('mm testmodel --task text2text writes the T5 folder and mm generate runs it', async () => {
  const out = join(dir.path, 'cli-t5');
  const written = await mm('testmodel', '--format', 'onnx', '--task', 'text2text', '--out', out, '--json');
  assert.equal(written.code, 0, written.stderr);
  const info = JSON.parse(written.stdout) as { files: string[]; parameterCount: number };
  assert.deepEqual(info.files.sort(), ['README.md', 'config.json', 'generation_config.json', 'onnx/decoder_model_merged.onnx', 'onnx/encoder_model.onnx', 'tokenizer.json', 'tokenizer_config.json']);

  const generated = await mm('generate', out, 'summarize: hello world', '--max-tokens', '4', '--json');
  assert.equal(generated.code, 0, generated.stderr);
  const data = JSON.parse(generated.stdout) as { generatedText: string; tokens: number };
  assert.ok(data.generatedText.trim().length > 0);
  assert.ok(data.tokens > 0 && data.tokens <= 4);

  const gguf = await mm('testmodel', '--format', 'gguf', '--task', 'text2text', '--out', join(dir.path, 'gguf-t5'));
  assert.equal(gguf.code, 2);
  assert.match(gguf.stderr, /^mm: .*ONNX only.*\[INVALID_ARGUMENT\]\n$/);
});
