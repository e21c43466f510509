import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry, importFromHuggingFace, isModelManagerError, loadConfig, syncHuggingFace } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURES, fixtureConfig, llamaTensors, safetensorsFile, shardFiles, TINY_LLAMA_CONFIG, writeFiles, writeHfCache } from './model-files.js';

/** A registry and HF settings inside a temp folder; the hub endpoint points nowhere reachable. */
async function setup(dir: string, env: Record<string, string> = {}) {
  const config = loadConfig({ MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: 'http://127.0.0.1:9', ...env });
  return { config, registry: await Registry.open({ config }) };
}

describe('import from a model folder', () => {
  it('counts parameters exactly from a single safetensors header and records the method', async () => {
    using tmp = tempDir();
    const folder = join(tmp.path, 'acme--tiny-llama');
    writeFiles(folder, {
      'config.json': JSON.stringify(TINY_LLAMA_CONFIG),
      'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)),
      'tokenizer_config.json': JSON.stringify({ chat_template: '{{ messages }}' }),
      'README.md': '---\nlicense: mit\ntags: [tiny]\n---\nA tiny llama for tests.\n',
    });
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const outcome = await importFromHuggingFace(registry, folder, { config });
    assert.equal(outcome.action, 'added');
    assert.equal(outcome.source, 'local');
    assert.equal(outcome.modelId, 'acme/tiny-llama');
    const model = await registry.requireModel('acme/tiny-llama');
    const expected = Object.values(llamaTensors(TINY_LLAMA_CONFIG)).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    assert.equal(model.parameterCount, expected);
    assert.match(model.memoryEstimate?.method ?? '', /params: safetensors/);
    assert.equal(model.format, 'safetensors');
    assert.equal(model.license, 'mit');
    assert.ok(model.capabilities.includes('chat'));
    assert.equal(model.localPath, folder);
  });

  it('reads a sharded checkpoint through its index, and falls back to the config when a shard is missing', async () => {
    using tmp = tempDir();
    const folder = join(tmp.path, 'sharded');
    const files = shardFiles(llamaTensors(TINY_LLAMA_CONFIG), 2);
    writeFiles(folder, { 'config.json': JSON.stringify({ ...TINY_LLAMA_CONFIG, num_hidden_layers: 3 }), ...files });
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const first = await importFromHuggingFace(registry, folder, { config, modelId: 'acme/sharded' });
    const fromHeaders = first.model.parameterCount;
    assert.match(first.model.memoryEstimate?.method ?? '', /params: safetensors/);
    rmSync(join(folder, 'model-00002-of-00002.safetensors'));
    const second = await importFromHuggingFace(registry, folder, { config, modelId: 'acme/sharded-2' });
    assert.match(second.model.memoryEstimate?.method ?? '', /params: config:llama/);
    assert.ok(second.warnings.some((w) => /shards are missing/.test(w)));
    assert.notEqual(second.model.parameterCount, fromHeaders, 'the 3-layer config and the 2-layer weights disagree: the headers won the first time');
  });

  it('refuses a malformed config.json and leaves no entry behind', async () => {
    using tmp = tempDir();
    const folder = join(tmp.path, 'broken');
    writeFiles(folder, { 'config.json': '{"architectures": ["LlamaForCausalLM"], "hidden_size": 40' });
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    await assert.rejects(importFromHuggingFace(registry, folder, { config }), (e) => isModelManagerError(e, 'INVALID_CONFIG') && /config\.json is not valid JSON/.test(e.message));
    writeFiles(folder, { 'config.json': '[1, 2]' });
    await assert.rejects(importFromHuggingFace(registry, folder, { config }), (e) => isModelManagerError(e, 'INVALID_CONFIG'));
    assert.equal(await registry.countModels(), 0);
  });

  it('imports a partial config with warnings; a bad optional file is a warning too', async () => {
    using tmp = tempDir();
    const folder = join(tmp.path, 'partial');
    writeFiles(folder, { 'config.json': JSON.stringify({ model_type: 'llama' }), 'tokenizer_config.json': '{oops', 'model.safetensors': Buffer.from('not a safetensors file') });
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const outcome = await importFromHuggingFace(registry, folder, { config });
    assert.equal(outcome.modelId, 'local/partial');
    assert.ok(outcome.warnings.some((w) => /names no architectures/.test(w)));
    assert.ok(outcome.warnings.some((w) => /tokenizer_config\.json is not valid JSON/.test(w)));
    assert.ok(outcome.warnings.some((w) => /safetensors headers/.test(w)));
    assert.ok(await registry.getModel('local/partial'));
  });

  it('says what is missing when a folder has no config.json or the path does not exist', async () => {
    using tmp = tempDir();
    mkdirSync(join(tmp.path, 'empty'));
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    await assert.rejects(importFromHuggingFace(registry, join(tmp.path, 'empty'), { config }), (e) => isModelManagerError(e, 'FILE_NOT_FOUND') && /has no config\.json/.test(e.message));
    await assert.rejects(importFromHuggingFace(registry, './no/such/folder', { config }), (e) => isModelManagerError(e, 'FILE_NOT_FOUND'));
    await assert.rejects(importFromHuggingFace(registry, 'not a valid id!', { config }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
  });
});

describe('import from the HF cache', () => {
  it('follows refs/main to the snapshot, through blob symlinks, without touching the network', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const snapshot = writeHfCache(config.hf.hubCache, 'Qwen/Qwen2-7B', 'a'.repeat(40), {
      'config.json': readFileSync(new URL('Qwen--Qwen2-7B/config.json', FIXTURES)),
      'README.md': '---\nlicense: apache-2.0\nlanguage: en\npipeline_tag: text-generation\n---\n',
    });
    const outcome = await importFromHuggingFace(registry, 'Qwen/Qwen2-7B', { config });
    assert.equal(outcome.source, 'cache');
    assert.equal(outcome.location, snapshot);
    assert.equal(outcome.model.parameterCount, 7_615_616_512);
    assert.deepEqual(outcome.model.languages, ['en']);
  });

  it('reports a blob missing from the cache as a warning, and goes to the hub when config.json itself is gone', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const snapshot = writeHfCache(config.hf.hubCache, 'openai-community/gpt2', 'b'.repeat(40), {
      'config.json': JSON.stringify(fixtureConfig('openai-community--gpt2')), 'vocab.json': '{}',
    });
    rmSync(realpathSync(join(snapshot, 'vocab.json')));
    const outcome = await importFromHuggingFace(registry, 'openai-community/gpt2', { config });
    assert.ok(outcome.warnings.some((w) => /vocab\.json is a broken link/.test(w)));
    rmSync(realpathSync(join(snapshot, 'config.json')));
    await assert.rejects(importFromHuggingFace(registry, 'openai-community/gpt2', { config, force: true }), (e) => isModelManagerError(e, 'HUB_UNREACHABLE'));
    assert.equal((await registry.listVersions('openai-community/gpt2')).length, 1, 'the failed re-import wrote nothing');
  });

  it('is refused offline with a clear error when the model is not cached', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path, { HF_HUB_OFFLINE: '1' });
    await using _ = registry;
    await assert.rejects(importFromHuggingFace(registry, 'meta-llama/Llama-3.1-8B', { config }), (e) => isModelManagerError(e, 'OFFLINE') && /HF_HUB_OFFLINE/.test(e.message));
  });
});

describe('re-import and versions', () => {
  it('leaves an existing model alone without force, makes a version with force when the files changed, and sync follows config changes only', async () => {
    using tmp = tempDir();
    const folder = join(tmp.path, 'mistralai--Mistral-7B-v0.1');
    const original = fixtureConfig('mistralai--Mistral-7B-v0.1');
    writeFiles(folder, { 'config.json': JSON.stringify(original) });
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    assert.equal((await importFromHuggingFace(registry, folder, { config })).action, 'added');
    await registry.addQualityMetric({ modelId: 'mistralai/Mistral-7B-v0.1', name: 'mmlu', value: 0.625, shots: 5 });

    const again = await importFromHuggingFace(registry, folder, { config });
    assert.equal(again.action, 'exists');
    assert.match(again.message, /--force/);
    assert.equal((await registry.listVersions('mistralai/Mistral-7B-v0.1')).length, 2);

    const same = await importFromHuggingFace(registry, folder, { config, force: true });
    assert.equal(same.action, 'unchanged', 'the same files make no empty version');
    assert.equal((await registry.listVersions('mistralai/Mistral-7B-v0.1')).length, 2);

    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...original, rope_theta: 20000 }));
    const forced = await importFromHuggingFace(registry, folder, { config, force: true });
    assert.equal(forced.action, 'updated');
    assert.equal((await registry.listVersions('mistralai/Mistral-7B-v0.1')).length, 3);
    assert.equal(forced.model.qualityMetrics[0]?.name, 'mmlu', 'what the user added survives a re-import');

    const unchanged = await syncHuggingFace(registry, { config });
    assert.deepEqual(unchanged.map((r) => r.action), ['unchanged']);
    assert.equal((await registry.listVersions('mistralai/Mistral-7B-v0.1')).length, 3);

    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...original, rope_theta: 20000, sliding_window: null, max_position_embeddings: 65536 }));
    const changed = await syncHuggingFace(registry, { config });
    assert.deepEqual(changed.map((r) => r.action), ['updated']);
    const model = await registry.requireModel('mistralai/Mistral-7B-v0.1');
    assert.equal(model.contextLength, 65536);
    assert.equal((await registry.listVersions('mistralai/Mistral-7B-v0.1')).length, 4);
  });

  it('reports one failing model in sync and carries on with the others', async () => {
    using tmp = tempDir();
    const good = join(tmp.path, 'acme--good');
    const gone = join(tmp.path, 'acme--gone');
    writeFiles(good, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    writeFiles(gone, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    const { registry, config } = await setup(tmp.path, { HF_HUB_OFFLINE: '1' });
    await using _ = registry;
    await importFromHuggingFace(registry, good, { config });
    await importFromHuggingFace(registry, gone, { config });
    rmSync(gone, { recursive: true });
    const results = await syncHuggingFace(registry, { config });
    assert.deepEqual(results.map((r) => [r.modelId, r.action]), [['acme/gone', 'failed'], ['acme/good', 'unchanged']]);
    const failed = results[0];
    assert.ok(failed?.action === 'failed' && failed.error.code === 'OFFLINE');
  });
});
