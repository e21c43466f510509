/**
 * Files a scan meets are untrusted: names that lie about what a file is, JSON keys that name an
 * object's prototype, links and shard names that lead out of the root. None may become a model,
 * corrupt a record, or make a scan read (and quote) a file outside what it was asked to scan.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { encodeSafetensors } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { writeSafetensors, llamaSafetensors } from './formats-writer.js';
import { ggufModel, open } from './harness.js';

const SECRET = 'SECRET-CONTENT: root:x:0:0';

test('bytes that are not the format their name says are warnings, never models', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  mkdirSync(join(root, 'noise'), { recursive: true });
  const files = {
    ggml: join(root, 'noise', 'random.ggml'),
    onnx: join(root, 'noise', 'random.onnx'),
    // Well-formed protobuf, but no ONNX model: no IR version, no opsets, a graph with no outputs.
    emptyGraph: join(root, 'empty-graph.onnx'),
    text: join(root, 'text.onnx'),
  };
  writeFileSync(files.ggml, randomBytes(4096));
  writeFileSync(files.onnx, randomBytes(4096));
  writeFileSync(files.emptyGraph, Buffer.from([0x3a, 0x00]));
  writeFileSync(files.text, 'this is not a model\n');
  ggufModel(join(root, 'real'), 'model');
  await using ctx = await open(base.path, { roots: [root] });
  const report = await ctx.discovery.refresh();
  assert.deepEqual(report.modelIds, ['real/model']);
  assert.deepEqual((await ctx.registry.listModels()).map((m) => m.modelId), ['real/model']);
  for (const path of Object.values(files)) assert.ok(report.warnings.some((w) => w.path === path), `a warning names ${path}: ${JSON.stringify(report.warnings)}`);
  assert.match(report.warnings.find((w) => w.path === files.ggml)!.reason, /not a GGML file/);
  assert.match(report.warnings.find((w) => w.path === files.emptyGraph)!.reason, /not a valid ONNX file/);
});

test('metadata.json keys are its own: constructor and toString are custom fields, __proto__ sets nothing, a bad model_id is a warning', async () => {
  using base = tempDir();
  const dir = join(base.path, 'models', 'team', 'proto');
  ggufModel(dir, 'model');
  writeFileSync(join(dir, 'metadata.json'), '{"model_id": "./escape", "constructor": "built by hand", "toString": 7, "__proto__": {"display_name": "injected"}, "display_name": "Proto"}');
  await using ctx = await open(base.path, { roots: [join(base.path, 'models')] });
  const report = await ctx.discovery.refresh();
  assert.deepEqual(report.modelIds, ['team/proto/model'], 'listed under the id it was added with');
  assert.ok(report.warnings.some((w) => w.path === join(dir, 'metadata.json') && /model_id "\.\/escape" is not a model id/.test(w.reason)), JSON.stringify(report.warnings));
  const m = await ctx.registry.requireModel('team/proto/model');
  assert.equal(m.displayName, 'Proto');
  const custom = m.custom as Record<string, unknown>;
  assert.deepEqual([Object.hasOwn(custom, 'constructor'), custom.constructor, custom.toString], [true, 'built by hand', 7]);
  assert.ok(Object.keys(custom).every((k) => !k.startsWith('function')), JSON.stringify(custom));
});

test('links that lead out of the root are not followed unless asked; shard indexes cannot name files outside the model', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const elsewhere = join(base.path, 'elsewhere');
  ggufModel(join(elsewhere, 'outside'), 'model');
  const secret = join(base.path, 'secret.txt');
  writeFileSync(secret, SECRET);
  mkdirSync(join(root, 'links'), { recursive: true });
  symlinkSync('/', join(root, 'links', 'slash'));
  symlinkSync(elsewhere, join(root, 'links', 'elsewhere'));
  symlinkSync(secret, join(root, 'links', 'weights.gguf'));
  // Inside the root, a link is followed as before.
  ggufModel(join(root, 'real'), 'model');
  symlinkSync(join(root, 'real'), join(root, 'links', 'again'));
  // A shard index naming a file outside the model's folder.
  const chat = join(root, 'chat');
  mkdirSync(chat);
  writeFileSync(join(chat, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' }));
  // Shards without -0000N-of-0000M names: the scan reads the index to find them.
  writeSafetensors(join(chat, 'first.safetensors'), llamaSafetensors({ layers: 1 }));
  writeFileSync(join(chat, 'second.safetensors'), encodeSafetensors({ w: { dtype: 'F32', shape: [2] } }));
  writeFileSync(join(chat, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'first.safetensors', b: '../../secret.txt' } }));

  {
    await using ctx = await open(base.path, { roots: [root] });
    const report = await ctx.discovery.refresh();
    assert.deepEqual(report.modelIds, ['real/model']);
    const reasons = new Map(report.warnings.map((w) => [w.path, w.reason]));
    for (const link of ['slash', 'elsewhere', 'weights.gguf']) assert.match(reasons.get(join(root, 'links', link)) ?? '', /leads outside the scanned root/, link);
    assert.match(reasons.get(join(chat, 'model.safetensors.index.json')) ?? '', /outside the model's folder/);
    assert.ok(!report.warnings.some((w) => /SECRET|root:x|exceeds|magic/.test(w.reason)), `nothing of the secret is quoted: ${JSON.stringify(report.warnings)}`);
  }
  const linked = join(base.path, 'linked');
  mkdirSync(linked);
  symlinkSync(elsewhere, join(linked, 'elsewhere'));
  await using followed = await open(base.path, { roots: [linked], settings: { followSymlinks: true } });
  assert.deepEqual((await followed.discovery.refresh()).modelIds, ['elsewhere/outside/model'], 'asked to, the scan follows links out of the root');
});

test('validate stats and reads only the files inside the model\'s folder, whatever files[] lists', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  ggufModel(join(root, 'team'), 'model');
  // Outside the model's folder, named like weights: read as a header, its first bytes would be quoted.
  const secret = join(base.path, 'secret.safetensors');
  writeFileSync(secret, SECRET);
  symlinkSync(secret, join(root, 'team', 'linked.safetensors'));
  await using ctx = await open(base.path, { roots: [root] });
  await ctx.discovery.refresh();
  const listed = [secret, '../../secret.safetensors', join(root, 'team', 'linked.safetensors')];
  const m = await ctx.registry.updateModel('team/model', (current) => ({ ...current, files: [...current.files, ...listed.map((path) => ({ path, size: 1 }))] }));
  const report = await ctx.discovery.validate(m.modelId);
  const checks = new Map(report.checks.map((c) => [c.name, c]));
  assert.equal(report.ok, false);
  assert.equal(checks.get('files inside the model folder')?.ok, false, JSON.stringify(report.checks));
  for (const path of listed) assert.ok(checks.get('files inside the model folder')!.message.includes(path), path);
  assert.deepEqual([checks.get('files present')?.ok, checks.get('sizes as registered')?.ok, checks.get('headers match file sizes')?.ok], [true, true, true], 'the model\'s own file is checked as before');
  assert.ok(!report.checks.some((c) => /SECRET|exceeds|not a valid|-> \d+ bytes/.test(c.message)), `nothing was read or stat-ed outside: ${JSON.stringify(report.checks)}`);
});

test('an Ollama manifest whose layer digest is not a sha256 names no file outside blobs/', async () => {
  using base = tempDir();
  const store = join(base.path, 'ollama');
  mkdirSync(join(store, 'blobs'), { recursive: true });
  const manifests = join(store, 'manifests', 'registry.ollama.ai', 'library', 'evil');
  mkdirSync(manifests, { recursive: true });
  // blobs/sha256-../../../model.gguf is <base>/model.gguf: a real model outside the store.
  ggufModel(base.path, 'model');
  writeFileSync(join(manifests, 'latest'), JSON.stringify({ layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: 'sha256:../../model.gguf' }] }));
  await using ctx = await open(base.path, { roots: [store] });
  const report = await ctx.discovery.refresh();
  assert.deepEqual(report.modelIds, []);
  assert.match(report.warnings.find((w) => w.path === join(manifests, 'latest'))?.reason ?? '', /digest is not sha256/);
});
