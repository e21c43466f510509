import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelMetadata } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { fixtureConfig } from '../hub/model-files.js';
import { mm } from './cli.js';
import { llamaGgufMetadata, llamaSafetensors, llamaTensors, writeGguf, writeSafetensors } from './formats-writer.js';

function fits(base: string, size: string): Map<string, ModelMetadata> {
  const run = mm(base, 'list', '--fits', size);
  assert.equal(run.status, 0, run.stderr);
  return new Map((run.json as { models: ModelMetadata[] }).models.map((m) => [m.modelId, m]));
}

test('mm scan sizes found models, so mm list --fits answers for them', () => {
  using base = tempDir();
  const models = join(base.path, 'models');
  // Llama 3.1 8B as published (GQA, 8 KV heads of 128) with bf16 weights declared in its header.
  const llama = join(models, 'llama-3.1-8b');
  mkdirSync(llama, { recursive: true });
  writeFileSync(join(llama, 'config.json'), JSON.stringify(fixtureConfig('meta-llama--Llama-3.1-8B')));
  writeSafetensors(join(llama, 'model.safetensors'), llamaSafetensors({ layers: 32, hidden: 4096, ff: 14336, vocab: 128256 }));
  // GGUF files without a config: sized by the file and the header's layers, KV heads and head size.
  mkdirSync(join(models, 'gguf'), { recursive: true });
  const tinyBytes = writeGguf(join(models, 'gguf', 'tiny.gguf'), llamaGgufMetadata({ name: 'tiny', layers: 2, heads: 8, kvHeads: 2 }), llamaTensors());
  const hugeBytes = writeGguf(join(models, 'gguf', 'huge.gguf'), llamaGgufMetadata({ name: 'huge', layers: 80, heads: 64, kvHeads: 8 }), llamaTensors({ layers: 80, hidden: 8192, ff: 28672, vocab: 32000 }));
  assert.ok(hugeBytes > 32e9, 'a 70B-class Q4_K file');

  const scan = mm(base.path, 'scan', models);
  assert.equal(scan.status, 0, scan.stderr);

  const all = fits(base.path, '1TB');
  assert.deepEqual([...all.keys()].sort(), ['gguf/huge', 'gguf/tiny', 'llama-3.1-8b']);
  const tiny = all.get('gguf/tiny')!.memoryEstimate!;
  assert.equal(tiny.weightsBytes, tinyBytes);
  assert.equal(tiny.kvCacheBytesPerToken, 2 * 2 * 2 * (64 / 8) * 2, '2 x layers x kvHeads x headDim x fp16');
  assert.match(tiny.method, /gguf file bytes/);
  assert.equal(all.get('gguf/huge')!.memoryEstimate!.weightsBytes, hugeBytes);
  const eight = all.get('llama-3.1-8b')!.memoryEstimate!;
  assert.equal(eight.kvCacheBytesPerToken, 128 * 1024, 'the import\'s figure: 128 KiB of fp16 cache per token');
  assert.match(eight.method, /^params: safetensors; weights: bfloat16/);

  assert.deepEqual([...fits(base.path, '16GB').keys()], ['gguf/tiny'], 'bf16 8B and a 70B Q4 do not fit in 16 GB');
  assert.deepEqual([...fits(base.path, '24GB').keys()].sort(), ['gguf/tiny', 'llama-3.1-8b']);
});
