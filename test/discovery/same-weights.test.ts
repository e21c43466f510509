/**
 * Hosts sharing one registry find the same model under different names (an Ollama tag, an HF cache
 * repo): copies whose weight files have the same sha256s, as the store's layout names them, are one
 * model with a location per host. Nothing here hashes a weights file during a scan: the test hashes
 * the blobs only to lay them out as the stores do.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { Discovery, Registry, loadConfig, writeTestModel, type ModelMetadata } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A GGUF model as a blob file; the same seed writes the same bytes. */
async function ggufBlob(base: string, seed: number): Promise<string> {
  const out = join(base, `gguf-${seed}`);
  const model = await writeTestModel({ format: 'gguf', task: 'embedding', out, seed });
  return join(model.path, model.files.find((f) => f.endsWith('.gguf'))!);
}

/** An Ollama store at `store` holding `blobs` under `<name>:<tag>` (registry.ollama.ai/library); returns the manifest's path. */
function ollamaModel(store: string, name: string, tag: string, layers: { mediaType: string; file: string }[]): string {
  mkdirSync(join(store, 'blobs'), { recursive: true });
  const given = layers.map(({ mediaType, file }) => {
    const digest = sha256(file);
    copyFileSync(file, join(store, 'blobs', `sha256-${digest}`));
    return { mediaType, digest: `sha256:${digest}`, size: 1 };
  });
  const manifest = join(store, 'manifests', 'registry.ollama.ai', 'library', name, tag);
  mkdirSync(dirname(manifest), { recursive: true });
  writeFileSync(manifest, JSON.stringify({ schemaVersion: 2, layers: given }));
  return manifest;
}

const MODEL_LAYER = 'application/vnd.ollama.image.model';

/**
 * The test model `model` (a folder) as an HF cache repo `repoId` under `cache`: its files are links
 * into blobs/, the weights named by their sha256 (LFS) and the small files by a git sha1, as the
 * hub names them. Returns the snapshot folder.
 */
function hfCacheRepo(cache: string, repoId: string, model: { path: string; files: string[] }): string {
  const repo = join(cache, `models--${repoId.replace('/', '--')}`);
  const commit = 'c'.repeat(40);
  const snapshot = join(repo, 'snapshots', commit);
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), commit);
  for (const file of model.files) {
    const from = join(model.path, file);
    const lfs = /\.(onnx|gguf|safetensors)$/.test(file);
    const etag = lfs ? sha256(from) : createHash('sha1').update(readFileSync(from)).digest('hex');
    copyFileSync(from, join(repo, 'blobs', etag));
    const link = join(snapshot, file);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(repo, 'blobs', etag)), link);
  }
  return snapshot;
}

/** One registry, and a discovery for each host over it (each with its own scan index). */
async function hosts(base: string, roots: Record<string, string>, { shared = true } = {}) {
  const registry = await Registry.open({ store: 'sqlite', db: join(base, 'registry.db') });
  const config = loadConfig({ MM_HOME: join(base, 'home'), HF_HOME: join(base, 'none'), OLLAMA_MODELS: join(base, 'none'), LMSTUDIO_MODELS: join(base, 'none') });
  const on: Record<string, Discovery> = {};
  for (const [host, root] of Object.entries(roots)) {
    on[host] = await Discovery.create({ registry, config, roots: [root], stateDir: join(base, 'state', host), ...(shared ? { hostId: host } : {}) });
  }
  return {
    registry,
    on,
    scan: (host: string) => on[host]!.refresh(),
    models: async (): Promise<ModelMetadata[]> => (await registry.listModels()).sort((a, b) => a.modelId.localeCompare(b.modelId)),
    async [Symbol.asyncDispose]() {
      for (const d of Object.values(on)) await d.close();
      await registry.close();
    },
  };
}

describe('copies with the same weights on two hosts', () => {
  it('an Ollama model tagged tiny:latest on host A and other:v1 on host B is one model with two locations', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const blob = await ggufBlob(base.path, 1);
    const onA = ollamaModel(join(base.path, 'a', 'ollama'), 'tiny', 'latest', [{ mediaType: MODEL_LAYER, file: blob }]);
    const onB = ollamaModel(join(base.path, 'b', 'ollama'), 'other', 'v1', [{ mediaType: MODEL_LAYER, file: blob }]);
    await using ctx = await hosts(base.path, { 'host-a': join(base.path, 'a'), 'host-b': join(base.path, 'b') });

    const a = await ctx.scan('host-a');
    const b = await ctx.scan('host-b');
    assert.deepEqual([a.counts.added, b.counts.added, b.counts.updated], [1, 0, 1]);
    assert.deepEqual(b.modelIds, ['ollama/tiny:latest']);
    const all = await ctx.models();
    assert.equal(all.length, 1);
    let model = all[0];
    assert.deepEqual(model!.locations!.map((l) => [l.host, l.path]), [['host-a', onA], ['host-b', onB]]);
    assert.equal(model!.modelName, 'tiny:latest', 'the copy that joined adds its location, not its names');
    assert.equal(model!.files.find((f) => f.path.includes('sha256-'))?.sha256, sha256(blob), 'the digest the manifest names is the file\'s sha256');

    // Rescans change nothing.
    const versions = (await ctx.registry.listVersions(model!.modelId)).length;
    assert.deepEqual([(await ctx.scan('host-a')).counts.updated, (await ctx.scan('host-b')).counts.updated], [0, 0]);
    assert.equal((await ctx.registry.listVersions(model!.modelId)).length, versions);

    // B's copy goes: a scan on A leaves it to B. A's copy goes: a scan on A drops it, and the model
    // (B's copy, as far as A can tell) is not missing.
    rmSync(onB);
    assert.equal((await ctx.scan('host-a')).counts.missing, 0);
    [model] = await ctx.models();
    assert.deepEqual(model!.locations!.map((l) => l.host), ['host-a', 'host-b']);
    rmSync(onA);
    assert.equal((await ctx.scan('host-a')).counts.missing, 0);
    [model] = await ctx.models();
    assert.deepEqual([model!.status, model!.localPath, model!.locations!.map((l) => l.host)], ['available', onB, ['host-b']]);
  });

  it('copies in two HF caches under different repo names are one model', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(base.path, 'written') });
    const onA = hfCacheRepo(join(base.path, 'a', 'hub'), 'acme/tiny-embed', model);
    const onB = hfCacheRepo(join(base.path, 'b', 'hub'), 'mirror/tiny-embed-copy', model);
    await using ctx = await hosts(base.path, { 'host-a': join(base.path, 'a', 'hub'), 'host-b': join(base.path, 'b', 'hub') });

    assert.deepEqual((await ctx.scan('host-a')).modelIds, ['acme/tiny-embed']);
    assert.deepEqual((await ctx.scan('host-b')).modelIds, ['acme/tiny-embed']);
    const models = await ctx.models();
    assert.deepEqual(models.map((m) => [m.modelId, m.locations!.map((l) => [l.host, l.path])]), [['acme/tiny-embed', [['host-a', onA], ['host-b', onB]]]]);
    const weights = models[0]!.files.find((f) => f.path.endsWith('model.onnx'));
    assert.equal(weights?.sha256, sha256(join(model.path, 'onnx', 'model.onnx')));
    assert.equal(models[0]!.files.find((f) => f.path.endsWith('config.json'))?.sha256, undefined, 'a git sha1 is no sha256');
  });

  it('different weights, or a set of them that differs by one file, stay two models', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const one = await ggufBlob(base.path, 1);
    const two = await ggufBlob(base.path, 2);
    ollamaModel(join(base.path, 'a', 'ollama'), 'tiny', 'latest', [{ mediaType: MODEL_LAYER, file: one }]);
    ollamaModel(join(base.path, 'b', 'ollama'), 'other', 'v1', [{ mediaType: MODEL_LAYER, file: two }]);
    ollamaModel(join(base.path, 'b', 'ollama'), 'vision', 'v1', [{ mediaType: MODEL_LAYER, file: one }, { mediaType: 'application/vnd.ollama.image.projector', file: two }]);
    await using ctx = await hosts(base.path, { 'host-a': join(base.path, 'a'), 'host-b': join(base.path, 'b') });
    await ctx.scan('host-a');
    await ctx.scan('host-b');
    assert.deepEqual((await ctx.models()).map((m) => [m.modelId, m.locations!.map((l) => l.host)]), [
      ['ollama/other:v1', ['host-b']],
      ['ollama/tiny:latest', ['host-a']],
      ['ollama/vision:v1', ['host-b']],
    ]);
  });

  it('a copy with a weight file whose sha256 the layout does not name stays a model of its own', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const model = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(base.path, 'written') });
    hfCacheRepo(join(base.path, 'a', 'hub'), 'acme/tiny-embed', model);
    const onB = hfCacheRepo(join(base.path, 'b', 'hub'), 'mirror/tiny-embed-copy', model);
    // The same hashed weights, and one more weights file that is no blob link: the hashes known are a part of B's set.
    copyFileSync(join(model.path, 'onnx', 'model.onnx'), join(onB, 'onnx', 'model_fp16.onnx'));
    await using ctx = await hosts(base.path, { 'host-a': join(base.path, 'a', 'hub'), 'host-b': join(base.path, 'b', 'hub') });
    await ctx.scan('host-a');
    await ctx.scan('host-b');
    assert.deepEqual((await ctx.models()).map((m) => m.modelId), ['acme/tiny-embed', 'mirror/tiny-embed-copy']);
  });

  it('two copies on one host never become one model', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const blob = await ggufBlob(base.path, 1);
    ollamaModel(join(base.path, 'a', 'ollama'), 'tiny', 'latest', [{ mediaType: MODEL_LAYER, file: blob }]);
    ollamaModel(join(base.path, 'b', 'ollama'), 'other', 'v1', [{ mediaType: MODEL_LAYER, file: blob }]);
    ollamaModel(join(base.path, 'b', 'ollama'), 'other', 'v2', [{ mediaType: MODEL_LAYER, file: blob }]);
    await using ctx = await hosts(base.path, { 'host-a': join(base.path, 'a'), 'host-b': join(base.path, 'b') });
    await ctx.scan('host-a');
    await ctx.scan('host-b');
    const models = await ctx.models();
    assert.equal(models.length, 2, 'one of B\'s tags joins A\'s model, the other is a model of its own');
    assert.deepEqual(models.map((m) => m.locations!.map((l) => l.host).join(',')).sort(), ['host-a,host-b', 'host-b']);
    assert.equal(models.find((m) => m.modelId === 'ollama/tiny:latest')?.locations?.length, 2);
  });

  it('a registry of one machine keeps copies under their own ids', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const blob = await ggufBlob(base.path, 1);
    ollamaModel(join(base.path, 'a', 'ollama'), 'tiny', 'latest', [{ mediaType: MODEL_LAYER, file: blob }]);
    ollamaModel(join(base.path, 'b', 'ollama'), 'other', 'v1', [{ mediaType: MODEL_LAYER, file: blob }]);
    await using ctx = await hosts(base.path, { a: join(base.path, 'a'), b: join(base.path, 'b') }, { shared: false });
    await ctx.scan('a');
    await ctx.scan('b');
    assert.deepEqual((await ctx.models()).map((m) => m.modelId), ['ollama/other:v1', 'ollama/tiny:latest']);
  });

  it('registering a path on host B joins the model host A found', { timeout: 60_000 }, async () => {
    using base = tempDir();
    const blob = await ggufBlob(base.path, 1);
    ollamaModel(join(base.path, 'a', 'ollama'), 'tiny', 'latest', [{ mediaType: MODEL_LAYER, file: blob }]);
    const onB = ollamaModel(join(base.path, 'b', 'ollama'), 'other', 'v1', [{ mediaType: MODEL_LAYER, file: blob }]);
    await using ctx = await hosts(base.path, { 'host-a': join(base.path, 'a'), 'host-b': join(base.path, 'b') });
    await ctx.scan('host-a');
    const saved = await ctx.on['host-b']!.register(onB);
    assert.deepEqual([saved.modelId, saved.locations?.map((l) => l.host)], ['ollama/tiny:latest', ['host-a', 'host-b']]);
    assert.equal((await ctx.models()).length, 1);
  });
});
