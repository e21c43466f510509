/**
 * A hub id runs on first use: `task()` pulls what is not on disk (from the hub stand-in on
 * 127.0.0.1), records it in the registry, and runs it on the real engines.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelManager, Registry, importFromHuggingFace, loadConfig, type EmbeddingTaskOutput, type GenerationTaskOutput } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { dataOf } from '../runtime/fixtures.js';
import { fileHashes, type HubFile } from './hub-content.js';
import { startHubServer, type HubServer } from './hub-server.js';
import { generatedModel } from './pull-repos.js';

const SHA = '2'.repeat(40);
let hub: HubServer;
let embed: Record<string, HubFile>;
const scratch = tempDir('mm-autopull-models-');

before(async () => {
  embed = await generatedModel(scratch.path, 'onnx', 'embedding');
  const llama = await generatedModel(scratch.path, 'gguf', 'text_generation');
  const weights = Object.entries(llama).find(([p]) => p.endsWith('.gguf'))![1];
  const { 'onnx/model.onnx': graph, ...rest } = embed;
  hub = await startHubServer([
    { id: 'acme/tiny-embed', sha: SHA, pipelineTag: 'feature-extraction', files: embed },
    // Only the fp16-named export: a pull of `:fp16` must load that file, there is no model.onnx.
    { id: 'acme/embed-variants', sha: SHA, pipelineTag: 'feature-extraction', files: { ...rest, 'onnx/model_fp16.onnx': graph!, 'onnx/model_quantized.onnx': Buffer.from('unused') } },
    { id: 'acme/tiny-llama-GGUF', sha: SHA, pipelineTag: 'text-generation', files: { 'README.md': llama['README.md']!, 'tiny-llama.Q8_0.gguf': weights, 'tiny-llama.Q4_K_M.gguf': Buffer.from('not loaded') } },
  ]);
});
after(async () => {
  await hub.close();
  scratch[Symbol.dispose]();
});

async function open(dir: string, env: Record<string, string> = {}) {
  const config = loadConfig({ MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: hub.url, ...env });
  const registry = await Registry.open({ config });
  const manager = await ModelManager.create({ registry, hubCache: config.hf.hubCache, autoPull: config.autoPull, pull: { config }, defaultKeepAlive: 0, gpuCount: 0 });
  return { config, registry, manager, [Symbol.asyncDispose]: async () => { await manager.shutdown(); await registry.close(); } };
}

describe('first use pulls', () => {
  it('task() with a hub id on an empty cache pulls it, records it, and embeds; concurrent first requests share one pull', async () => {
    using tmp = tempDir();
    await using ctx = await open(tmp.path);
    const before = hub.sentBytes('onnx/model.onnx');
    const results = await Promise.all([1, 2, 3].map((i) => ctx.manager.task({ taskData: [`text ${i}`], taskType: 'embedding', modelName: 'acme/tiny-embed' })));
    for (const r of results) assert.equal(dataOf<EmbeddingTaskOutput>(r).embeddings.length, 1);
    assert.equal(hub.sentBytes('onnx/model.onnx') - before, (embed['onnx/model.onnx'] as Buffer).length, 'the weights were fetched once');
    const model = await ctx.registry.getModel('acme/tiny-embed');
    assert.ok(model, 'the pull registered the model');
    assert.equal(model.revision, SHA);
    assert.match(model.localPath ?? '', /models--acme--tiny-embed\/snapshots\/2{40}\/onnx\/model\.onnx$/);
    assert.equal(model.files.find((f) => f.path === 'onnx/model.onnx')?.sha256, fileHashes(embed['onnx/model.onnx']!).sha256);
    assert.ok(model.files.every((f) => f.size !== undefined && f.sha256 !== undefined));
    assert.equal((await ctx.registry.listVersions('acme/tiny-embed')).length, 1);

    const requests = hub.requests.length;
    await ctx.manager.releaseModel('acme/tiny-embed', { force: true });
    dataOf(await ctx.manager.task({ taskData: ['again'], taskType: 'embedding', modelName: 'acme/tiny-embed' }));
    assert.equal(hub.requests.length, requests, 'a pulled model runs without the hub');
  });

  it('a registered hub model without localPath falls through to a pull, and keeps what a person set', async () => {
    using tmp = tempDir();
    await using ctx = await open(tmp.path);
    await importFromHuggingFace(ctx.registry, 'acme/tiny-embed', { config: ctx.config });
    await ctx.registry.updateModel('acme/tiny-embed', { description: 'my notes', tags: ['mine'] });
    assert.equal((await ctx.registry.getModel('acme/tiny-embed'))?.localPath, undefined);
    dataOf(await ctx.manager.task({ taskData: ['hello'], taskType: 'embedding', modelName: 'acme/tiny-embed' }));
    const model = (await ctx.registry.getModel('acme/tiny-embed'))!;
    assert.equal(model.revision, SHA);
    assert.ok(model.localPath?.endsWith('model.onnx'));
    assert.equal(model.description, 'my notes');
    assert.deepEqual(model.tags, ['mine']);
  });

  it('a registered hub model without localPath runs from files put in the HF cache by hand, offline', async () => {
    using tmp = tempDir();
    await using offline = await open(tmp.path, { HF_HUB_OFFLINE: '1' });
    const online = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url });
    await importFromHuggingFace(offline.registry, 'acme/tiny-embed', { config: online });
    // As `cp -r` would: the files in a snapshot folder named by its commit, and refs/main.
    const repo = join(online.hf.hubCache, 'models--acme--tiny-embed');
    for (const [path, content] of Object.entries(embed)) {
      mkdirSync(dirname(join(repo, 'snapshots', SHA, path)), { recursive: true });
      writeFileSync(join(repo, 'snapshots', SHA, path), content as string | Buffer);
    }
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), SHA);
    hub.requests.length = 0;
    dataOf(await offline.manager.task({ taskData: ['hello'], taskType: 'embedding', modelName: 'acme/tiny-embed' }));
    assert.equal(hub.requests.length, 0);
  });

  it('runs the variant named after the colon: an ONNX fp16 export, a GGUF quantization', async () => {
    using tmp = tempDir();
    await using ctx = await open(tmp.path);
    const embedded = dataOf<EmbeddingTaskOutput>(await ctx.manager.task({ taskData: ['hello'], taskType: 'embedding', modelName: 'acme/embed-variants:fp16' }));
    assert.equal(embedded.embeddings[0]!.length, embedded.dimensions);
    assert.match((await ctx.registry.getModel('acme/embed-variants:fp16'))?.localPath ?? '', /onnx\/model_fp16\.onnx$/);
    assert.equal(hub.sentBytes('onnx/model_quantized.onnx'), 0);

    const generated = dataOf<GenerationTaskOutput>(await ctx.manager.task({ taskData: 'Once', taskType: 'text_generation', modelName: 'acme/tiny-llama-GGUF:q8_0', maxTokens: 3 }));
    assert.ok(generated.tokens > 0);
    const model = await ctx.registry.getModel('acme/tiny-llama-GGUF:Q8_0');
    assert.equal(model?.quantization, 'Q8_0');
    assert.equal(hub.sentBytes('tiny-llama.Q4_K_M.gguf'), 0, 'only the quantization asked for was fetched');
  });

  it('a hub id the hub does not have is MODEL_NOT_FOUND, saying where it looked', async () => {
    using tmp = tempDir();
    await using ctx = await open(tmp.path);
    const result = await ctx.manager.task({ taskData: ['x'], taskType: 'embedding', modelName: 'acme/no-such-model' });
    assert.equal(!result.success && result.error.code, 'MODEL_NOT_FOUND');
    assert.match(!result.success ? result.error.message : '', /no such repo/);
  });

  it('pulls nothing when HF_HUB_OFFLINE is set: MODEL_NOT_FOUND without a request', async () => {
    using tmp = tempDir();
    await using ctx = await open(tmp.path, { HF_HUB_OFFLINE: '1' });
    hub.requests.length = 0;
    const result = await ctx.manager.task({ taskData: ['x'], taskType: 'embedding', modelName: 'acme/tiny-embed' });
    assert.equal(result.success, false);
    assert.equal(!result.success && result.error.code, 'MODEL_NOT_FOUND');
    assert.equal(hub.requests.length, 0);
  });
});
