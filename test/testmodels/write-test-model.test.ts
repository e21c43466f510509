import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gguf } from '@huggingface/gguf';
import { isModelManagerError, writeTestModel } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

test('each generated folder holds the model file, a config.json registries read, and tokenizer files for ONNX', async () => {
  using dir = tempDir();
  const llama = await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(dir.path, 'llama') });
  const bert = await writeTestModel({ format: 'gguf', task: 'embedding', out: join(dir.path, 'bert') });
  const onnx = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir.path, 'onnx') });
  const gpt2 = await writeTestModel({ format: 'onnx', task: 'text_generation', out: join(dir.path, 'gpt2') });

  assert.deepEqual(llama.files, ['testmodel-llama-tiny.f32.gguf', 'config.json', 'README.md']);
  assert.deepEqual(readJson(join(llama.path, 'config.json')).architectures, ['LlamaForCausalLM']);
  assert.deepEqual(readJson(join(bert.path, 'config.json')).architectures, ['BertModel']);
  assert.deepEqual(onnx.files.sort(), ['README.md', 'config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
  assert.equal(readJson(join(onnx.path, 'config.json')).model_type, 'bert');
  assert.equal((readJson(join(onnx.path, 'tokenizer.json')).model as { type: string }).type, 'WordPiece');
  assert.deepEqual(readJson(join(gpt2.path, 'config.json')).architectures, ['GPT2LMHeadModel']);
  assert.equal((readJson(join(gpt2.path, 'tokenizer.json')).model as { type: string }).type, 'BPE');
  assert.match(readFileSync(join(bert.path, 'README.md'), 'utf8'), /^---\npipeline_tag: feature-extraction\n/);

  // The parameter count reported is the one in the file.
  const parsed = await gguf(join(llama.path, llama.files[0]!), { allowLocalFile: true });
  const inFile = parsed.tensorInfos.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * Number(b), 1), 0);
  assert.equal(llama.parameterCount, inFile);
  assert.equal((parsed.metadata as unknown as Record<string, unknown>)['tokenizer.ggml.model'], 'llama');
});

test('the T5 folder holds both graphs, the config transformers.js reads, a Unigram tokenizer, and T5\'s parameter count', async () => {
  using dir = tempDir();
  const t5 = await writeTestModel({ format: 'onnx', task: 'text2text', out: dir.path });
  assert.deepEqual(t5.files.sort(), ['README.md', 'config.json', 'generation_config.json', 'onnx/decoder_model_merged.onnx', 'onnx/encoder_model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
  const config = readJson(join(t5.path, 'config.json'));
  assert.deepEqual(config.architectures, ['T5ForConditionalGeneration']);
  assert.equal(config.is_encoder_decoder, true);
  assert.equal(readJson(join(t5.path, 'generation_config.json')).decoder_start_token_id, 0);
  assert.equal((readJson(join(t5.path, 'tokenizer.json')).model as { type: string }).type, 'Unigram');
  assert.match(readFileSync(join(t5.path, 'README.md'), 'utf8'), /^---\npipeline_tag: text2text-generation\n/);

  // T5 v1.1 (gated FFN, untied LM head) counted as transformers counts it, the shared embedding once.
  const n = (key: string) => config[key] as number;
  const attention = 4 * n('d_model') * n('d_kv') * n('num_heads');
  const feedForward = 3 * n('d_model') * n('d_ff');
  const positionTable = n('relative_attention_num_buckets') * n('num_heads');
  const encoder = n('num_layers') * (attention + feedForward + 2 * n('d_model')) + positionTable + n('d_model');
  const decoder = n('num_decoder_layers') * (2 * attention + feedForward + 3 * n('d_model')) + positionTable + n('d_model');
  assert.equal(t5.parameterCount, 2 * n('vocab_size') * n('d_model') + encoder + decoder);
});

test('the same seed writes the same bytes; another seed other weights', async () => {
  using dir = tempDir();
  const write = (name: string, seed: number) => writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir.path, name), seed });
  const [a, b, c] = [await write('a', 5), await write('b', 5), await write('c', 6)];
  const graph = (m: { path: string }) => readFileSync(join(m.path, 'onnx/model.onnx'));
  assert.ok(graph(a).equals(graph(b)));
  assert.ok(!graph(a).equals(graph(c)));
});

test('a folder holding another model is refused; the same model is rewritten in place', async () => {
  using dir = tempDir();
  await writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path });
  await writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path, seed: 2 });
  await assert.rejects(writeTestModel({ format: 'gguf', task: 'text_generation', out: dir.path }),
    (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /testmodel-bert-tiny\.f32\.gguf/.test(e.message));
  await assert.rejects(writeTestModel({ format: 'onnx', task: 'embedding', out: dir.path }), { code: 'INVALID_ARGUMENT' });
});

test('unknown choices are refused with what to use instead', async () => {
  using dir = tempDir();
  await assert.rejects(writeTestModel({ format: 'tflite' as 'onnx', task: 'embedding', out: dir.path }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /gguf or onnx/.test(e.message));
  await assert.rejects(writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path, size: 'huge' as 'tiny' }), /tiny, small, bench/);
  await assert.rejects(writeTestModel({ format: 'gguf', task: 'embedding', out: dir.path, seed: -1 }), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(writeTestModel({ format: 'gguf', task: 'text2text', out: dir.path }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /ONNX only/.test(e.message));
});

test('mm testmodel writes a model the other commands accept by its folder', async () => {
  using dir = tempDir();
  const out = join(dir.path, 'model');
  const env = { ...process.env, MM_HOME: join(dir.path, 'home') };
  const { stdout } = await run(process.execPath, ['bin/mm.js', '--json', 'testmodel', '--format', 'onnx', '--task', 'embedding', '--out', out, '--seed', '3'], { env });
  const written = JSON.parse(stdout) as { path: string; parameterCount: number; seed: number; bytes: number };
  assert.equal(written.path, out);
  assert.equal(written.seed, 3);
  assert.ok(written.bytes > 0 && written.parameterCount > 0);

  const embedded = await run(process.execPath, ['bin/mm.js', '--json', 'embed', out, 'hello'], { env });
  assert.equal((JSON.parse(embedded.stdout) as { dimensions: number }).dimensions, 32);

  await assert.rejects(run(process.execPath, ['bin/mm.js', 'testmodel', '--format', 'safetensors', '--task', 'embedding', '--out', out], { env }),
    (e: { code?: number; stderr?: string }) => e.code === 2 && /--format must be one of gguf, onnx/.test(e.stderr ?? ''));
});
