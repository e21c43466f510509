import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModelMetadata } from '../../src/index.js';
import { runMm } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startHubServer, type HubRepo, type HubServer } from './hub-server.js';
import { fixtureConfig, llamaTensors, safetensorsFile, TINY_LLAMA_CONFIG, writeFiles, writeHfCache } from './model-files.js';


/** `mm` with only PATH from this process's environment, run asynchronously so the hub server in this process keeps answering. */
const mm = (args: string[], env: Record<string, string>) => runMm(args, { PATH: process.env.PATH ?? '', ...env });

/** A hub repo whose card and config a test changes between imports. */
const CARD = (summary: string, languages: string[], license = 'mit') => `---\nlicense: ${license}\nlanguage: [${languages.join(', ')}]\ntags: [chat]\n---\n# Tiny\n\n${summary}\n`;
const editable: HubRepo = {
  id: 'acme/editable', sha: 'a'.repeat(40), pipelineTag: 'text-generation',
  files: { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG), 'README.md': CARD('First card.', ['en']) },
};

describe('mm import / estimate / sync', () => {
  let hub: HubServer;
  before(async () => {
    hub = await startHubServer([
      { id: 'mistralai/Mistral-7B-v0.1', sha: 'd'.repeat(40), pipelineTag: 'text-generation', files: { 'config.json': JSON.stringify(fixtureConfig('mistralai--Mistral-7B-v0.1')) } },
      editable,
    ]);
  });
  after(() => hub.close());

  it('imports from the hub, the HF cache and a folder; lists what fits; syncs', async () => {
    using tmp = tempDir();
    const env = { MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url };
    writeHfCache(env.HF_HUB_CACHE, 'meta-llama/Llama-3.1-8B', 'e'.repeat(40), { 'config.json': JSON.stringify(fixtureConfig('meta-llama--Llama-3.1-8B')) });
    const folder = join(tmp.path, 'google-t5--t5-small');
    writeFiles(folder, { 'config.json': JSON.stringify(fixtureConfig('google-t5--t5-small')) });

    const fromHub = await mm(['import', 'mistralai/Mistral-7B-v0.1', '--json'], env);
    assert.equal(fromHub.code, 0, fromHub.stderr);
    const outcome = JSON.parse(fromHub.stdout) as { action: string; source: string; model: { parameterCount: number } };
    assert.deepEqual([outcome.action, outcome.source, outcome.model.parameterCount], ['added', 'hub', 7_241_732_096]);

    const fromCache = await mm(['import', 'meta-llama/Llama-3.1-8B'], env);
    assert.equal(fromCache.code, 0, fromCache.stderr);
    assert.match(fromCache.stdout, /added meta-llama\/Llama-3\.1-8B from cache/);
    assert.match(fromCache.stdout, /8\.03B params, gqa/);

    const fromFolder = await mm(['import', folder], env);
    assert.equal(fromFolder.code, 0, fromFolder.stderr);
    assert.match(fromFolder.stdout, /added google-t5\/t5-small from local/);

    const again = await mm(['import', 'meta-llama/Llama-3.1-8B'], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already registered .* use --force/);

    const fits = await mm(['list', '--fits', '4GB', '--json'], env);
    assert.deepEqual((JSON.parse(fits.stdout) as { models: { modelId: string }[] }).models.map((m) => m.modelId), ['google-t5/t5-small']);

    const sync = await mm(['sync', '--json'], env);
    assert.equal(sync.code, 0, sync.stderr);
    assert.deepEqual((JSON.parse(sync.stdout) as { results: { action: string }[] }).results.map((r) => r.action), ['unchanged', 'unchanged', 'unchanged']);

    writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...fixtureConfig('google-t5--t5-small'), n_positions: 1024 }));
    const changed = await mm(['sync'], env);
    assert.match(changed.stdout, /google-t5\/t5-small\s+updated\s+2\s+local/);
  });

  it('estimates a registry id, a folder and a cached id, with suffixes and dtypes', async () => {
    using tmp = tempDir();
    const env = { MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' };
    writeHfCache(env.HF_HUB_CACHE, 'meta-llama/Llama-3.1-8B', 'e'.repeat(40), { 'config.json': JSON.stringify(fixtureConfig('meta-llama--Llama-3.1-8B')) });
    const json = await mm(['estimate', 'meta-llama/Llama-3.1-8B', '--context', '8K', '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const e = JSON.parse(json.stdout) as { kvCacheBytesPerToken: number; kvCacheBytes: number; context: number; from: string };
    assert.deepEqual([e.kvCacheBytesPerToken, e.kvCacheBytes, e.context, e.from], [131072, 1024 ** 3, 8192, 'cache']);

    const table = await mm(['estimate', 'meta-llama/Llama-3.1-8B', '--context', '8K', '--dtype', 'q4_k_m', '--batch', '2'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /kv cache\s+2\.00 GiB\s+128\.0 KiB\/token x 8192 x 2/);
    assert.match(table.stdout, /weights .* q4_k_m/);

    const folder = join(tmp.path, 'tiny');
    writeFiles(folder, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    const local = await mm(['estimate', folder, '--json'], env);
    assert.equal((JSON.parse(local.stdout) as { from: string }).from, 'local');

    const bad = await mm(['estimate', 'meta-llama/Llama-3.1-8B', '--dtype', 'float13'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown dtype "float13".*\[INVALID_ARGUMENT\]/);

    const novel = join(tmp.path, 'lab--novel');
    writeFiles(novel, { 'config.json': JSON.stringify({ ...TINY_LLAMA_CONFIG, architectures: ['NovelNet'], model_type: 'novel' }) });
    const warned = await mm(['import', novel, '--json'], env);
    assert.equal(warned.code, 0, warned.stderr);
    assert.equal((JSON.parse(warned.stdout) as { modelId: string }).modelId, 'lab/novel');
    assert.match(warned.stderr, /^warning: lab\/novel: unknown architecture "NovelNet"/m);

    const offline = await mm(['import', 'acme/not-cached'], env);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /^mm: .*HF_HUB_OFFLINE.*\[OFFLINE\]\n$/);
  });

  it('importing a folder a scan already registered keeps its one entry, under the id the scan gave it', async () => {
    using tmp = tempDir();
    const env = { MM_HOME: join(tmp.path, 'mm'), HF_HOME: join(tmp.path, 'none'), OLLAMA_MODELS: join(tmp.path, 'none'), LMSTUDIO_MODELS: join(tmp.path, 'none') };
    const root = join(tmp.path, 'models');
    writeFiles(join(root, 'tiny-llama'), { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG), 'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)) });
    const scan = await mm(['scan', root, '--json'], env);
    assert.equal(scan.code, 0, scan.stderr);
    const again = await mm(['import', join(root, 'tiny-llama'), '--json'], env);
    assert.deepEqual([JSON.parse(again.stdout).action, JSON.parse(again.stdout).modelId], ['exists', 'tiny-llama']);
    const forced = await mm(['import', join(root, 'tiny-llama'), '--force', '--json'], env);
    assert.deepEqual([JSON.parse(forced.stdout).action, JSON.parse(forced.stdout).modelId], ['updated', 'tiny-llama']);
    const listed = JSON.parse((await mm(['list', '--json'], env)).stdout) as { models: { modelId: string }[] };
    assert.deepEqual(listed.models.map((m) => m.modelId), ['tiny-llama']);
  });

  it('a value a person set stays through mm sync and mm import --force; what no one edited follows the hub', async () => {
    using tmp = tempDir();
    const env = { MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url };
    const id = editable.id;
    const show = async () => JSON.parse((await mm(['show', id, '--json'], env)).stdout) as ModelMetadata;
    assert.equal((await mm(['import', id], env)).code, 0);
    const imported = await show();
    assert.deepEqual([imported.description, imported.license, imported.languages, imported.contextLength], ['First card.', 'mit', ['en'], 512]);

    const edit = { description: 'Written by a person.', tags: ['reviewed'], modelType: 'multimodal', capabilities: ['chat', 'vision'], license: 'other' };
    const edited = await mm(['update', id, JSON.stringify(edit)], env);
    assert.equal(edited.code, 0, edited.stderr);

    // The hub publishes a new config and card: every field changes there.
    editable.sha = 'b'.repeat(40);
    editable.files['config.json'] = JSON.stringify({ ...TINY_LLAMA_CONFIG, max_position_embeddings: 4096 });
    editable.files['README.md'] = CARD('Second card.', ['en', 'fr'], 'apache-2.0');
    const sync = await mm(['sync', '--json'], env);
    assert.equal(sync.code, 0, sync.stderr);
    assert.deepEqual((JSON.parse(sync.stdout) as { results: { action: string }[] }).results.map((r) => r.action), ['updated']);
    const synced = await show();
    assert.deepEqual(pick(synced, Object.keys(edit)), edit, 'the person\'s values stay');
    assert.deepEqual([synced.contextLength, synced.languages], [4096, ['en', 'fr']], 'what no one edited follows the hub');

    editable.sha = 'c'.repeat(40);
    editable.files['config.json'] = JSON.stringify({ ...TINY_LLAMA_CONFIG, max_position_embeddings: 8192 });
    editable.files['README.md'] = CARD('Third card.', ['de'], 'bsd');
    const forced = await mm(['import', id, '--force', '--json'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((JSON.parse(forced.stdout) as { action: string }).action, 'updated');
    const reimported = await show();
    assert.deepEqual(pick(reimported, Object.keys(edit)), edit, 'the person\'s values stay');
    assert.deepEqual([reimported.contextLength, reimported.languages], [8192, ['de']]);
  });

  it('importing the id of a deleted model says it is deleted and how to restore or remove it', async () => {
    using tmp = tempDir();
    const env = { MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url };
    assert.equal((await mm(['import', 'mistralai/Mistral-7B-v0.1'], env)).code, 0);
    assert.equal((await mm(['delete', 'mistralai/Mistral-7B-v0.1'], env)).code, 0);
    for (const args of [[], ['--force']]) {
      const again = await mm(['import', 'mistralai/Mistral-7B-v0.1', ...args], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^mm: model "mistralai\/Mistral-7B-v0\.1" was deleted .*`mm rollback mistralai\/Mistral-7B-v0\.1 1`.*`mm delete mistralai\/Mistral-7B-v0\.1 --hard`.* \[MODEL_EXISTS\]\n$/);
    }
    assert.equal((await mm(['rollback', 'mistralai/Mistral-7B-v0.1', '1'], env)).code, 0);
    assert.match((await mm(['import', 'mistralai/Mistral-7B-v0.1'], env)).stdout, /already registered/);
  });
});

function pick(model: ModelMetadata, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (model as unknown as Record<string, unknown>)[k]]));
}
