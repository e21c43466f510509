import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry, importFromHuggingFace, isModelManagerError, loadConfig } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { startHubServer, type HubServer } from './hub-server.js';
import { fixtureConfig, llamaTensors, safetensorsFile, shardFiles, TINY_LLAMA_CONFIG, writeFiles, writeHfCache } from './model-files.js';

const SHA = 'c'.repeat(40);
const TOKEN = 'hf_test_token';

describe('import from the hub over HTTP (a recorded hub on 127.0.0.1)', () => {
  let hub: HubServer;
  before(async () => {
    hub = await startHubServer([
      {
        id: 'acme/tiny-llama', sha: SHA, redirectWeights: true, pipelineTag: 'text-generation', tags: ['transformers', 'safetensors', 'conversational', 'license:mit'],
        files: {
          'config.json': JSON.stringify(TINY_LLAMA_CONFIG),
          'tokenizer_config.json': JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}' }),
          'generation_config.json': JSON.stringify({ max_new_tokens: 128 }),
          'README.md': '---\nlicense: mit\nlanguage: [en]\nbase_model: acme/base\n---\n# Tiny\n\nA tiny llama served by a fake hub.\n',
          ...shardFiles(llamaTensors(TINY_LLAMA_CONFIG), 2),
        },
      },
      { id: 'acme/single', sha: SHA, files: { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG), 'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)) } },
      { id: 'meta-llama/Llama-3.1-8B', sha: SHA, gated: true, pipelineTag: 'text-generation', files: { 'config.json': JSON.stringify(fixtureConfig('meta-llama--Llama-3.1-8B')) } },
      { id: 'acme/gguf-only', sha: SHA, files: { 'README.md': '---\nlicense: apache-2.0\n---\nQuantized files only.\n', 'model.Q4_K_M.gguf': Buffer.alloc(16) } },
      { id: 'acme/broken', sha: SHA, files: { 'config.json': '{"model_type": "llama",' } },
    ], { token: TOKEN });
  });
  after(() => hub.close());

  async function setup(dir: string, env: Record<string, string> = {}) {
    const config = loadConfig({ MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: hub.url, ...env });
    return { config, registry: await Registry.open({ config }) };
  }

  it('imports config, card and tokenizer config, and counts parameters from sharded headers read by Range', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    hub.requests.length = 0;
    const outcome = await importFromHuggingFace(registry, 'acme/tiny-llama', { config });
    assert.equal(outcome.action, 'added');
    assert.equal(outcome.source, 'hub');
    const m = outcome.model;
    const expected = Object.values(llamaTensors(TINY_LLAMA_CONFIG)).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    assert.equal(m.parameterCount, expected);
    assert.match(m.memoryEstimate?.method ?? '', /params: safetensors/);
    assert.equal(m.license, 'mit');
    assert.equal(m.baseModel, 'acme/base');
    assert.deepEqual(m.languages, ['en']);
    assert.ok(m.capabilities.includes('chat'));
    assert.ok(m.tags.includes('conversational') && !m.tags.includes('license:mit'));
    assert.equal(m.description, 'A tiny llama served by a fake hub.');

    // Weights are never downloaded: every safetensors request is ranged and stays inside the header.
    assert.ok(hub.requests.some((r) => r.path.startsWith('/lfs/')), 'weight headers were read where the hub redirected to');
    const weightRequests = hub.requests.filter((r) => r.path.endsWith('.safetensors') && r.method === 'GET');
    assert.ok(weightRequests.length >= 2, 'both shards were read');
    for (const r of weightRequests) {
      assert.ok(r.range, `${r.path} was fetched without a Range header`);
      const shard = /model-\d+-of-\d+\.safetensors/.exec(r.path)![0];
      const header = (shardFiles(llamaTensors(TINY_LLAMA_CONFIG), 2)[shard] as { header: Buffer }).header;
      assert.ok(r.lastByte < header.length, `${r.path} read byte ${r.lastByte}, past the ${header.length}-byte header`);
    }
  });

  it('reads a single safetensors file too', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const outcome = await importFromHuggingFace(registry, 'acme/single', { config });
    assert.match(outcome.model.memoryEstimate?.method ?? '', /params: safetensors/);
  });

  it('needs a token for a gated model: AUTH_REQUIRED without, imported with HF_TOKEN', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    await assert.rejects(importFromHuggingFace(registry, 'meta-llama/Llama-3.1-8B', { config }), (e) => isModelManagerError(e, 'AUTH_REQUIRED') && /HF_TOKEN/.test(e.message));
    assert.equal(await registry.countModels(), 0);
    const withToken = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN });
    const outcome = await importFromHuggingFace(registry, 'meta-llama/Llama-3.1-8B', { config: withToken });
    assert.equal(outcome.model.parameterCount, 8_030_261_248);
    assert.equal(outcome.model.memoryEstimate?.kvCacheBytesPerToken, 128 * 1024);
    const wrong = loadConfig({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(tmp.path, 'hub'), HF_TOKEN: 'hf_wrong' });
    await assert.rejects(importFromHuggingFace(registry, 'meta-llama/Llama-3.1-8B', { config: wrong, force: true }), (e) => isModelManagerError(e, 'AUTH_REQUIRED') && /no access/.test(e.message));
  });

  it('answers HUB_NOT_FOUND for a repo the hub does not have', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    await assert.rejects(importFromHuggingFace(registry, 'acme/does-not-exist', { config }), (e) => isModelManagerError(e, 'HUB_NOT_FOUND'));
  });

  it('imports a repo without config.json from its card, with a warning', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    const outcome = await importFromHuggingFace(registry, 'acme/gguf-only', { config });
    assert.ok(outcome.warnings.some((w) => /no config\.json/.test(w)));
    assert.equal(outcome.model.license, 'apache-2.0');
    assert.equal(outcome.model.format, 'gguf');
  });

  it('refuses a malformed config.json from the hub and writes nothing', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path);
    await using _ = registry;
    await assert.rejects(importFromHuggingFace(registry, 'acme/broken', { config }), (e) => isModelManagerError(e, 'INVALID_CONFIG'));
    assert.equal(await registry.countModels(), 0);
  });

  it('prefers the HF cache to the hub, and HF_HUB_OFFLINE never touches the network', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path, { HF_HUB_OFFLINE: '1' });
    await using _ = registry;
    writeHfCache(config.hf.hubCache, 'acme/tiny-llama', SHA, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    hub.requests.length = 0;
    assert.equal((await importFromHuggingFace(registry, 'acme/tiny-llama', { config })).source, 'cache');
    await assert.rejects(importFromHuggingFace(registry, 'acme/single', { config }), (e) => isModelManagerError(e, 'OFFLINE'));
    assert.equal(hub.requests.length, 0);
  });

  it('lets the injected fetch carry every request', async () => {
    using tmp = tempDir();
    const { registry, config } = await setup(tmp.path, { HF_ENDPOINT: 'http://hub.invalid' });
    await using _ = registry;
    const seen: string[] = [];
    const redirect: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input).replace('http://hub.invalid', hub.url);
      seen.push(url);
      return fetch(url, init);
    };
    const outcome = await importFromHuggingFace(registry, 'acme/single', { config, fetch: redirect });
    assert.equal(outcome.action, 'added');
    assert.ok(seen.length >= 3);
  });
});

describe('import when the hub is down', () => {
  it('fails with HUB_UNREACHABLE, while folders and the HF cache still import', async () => {
    const down = await startHubServer([]);
    await down.close();
    using tmp = tempDir();
    const config = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: down.url });
    await using registry = await Registry.open({ config });
    await assert.rejects(importFromHuggingFace(registry, 'acme/tiny-llama', { config }), (e) => isModelManagerError(e, 'HUB_UNREACHABLE') && /HF_HUB_OFFLINE/.test(e.message));
    writeHfCache(config.hf.hubCache, 'acme/cached', SHA, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    assert.equal((await importFromHuggingFace(registry, 'acme/cached', { config })).source, 'cache');
    const folder = join(tmp.path, 'acme--folder');
    writeFiles(folder, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    assert.equal((await importFromHuggingFace(registry, folder, { config })).source, 'local');
    assert.equal(await registry.countModels(), 2);
  });

  it('gives up on a hub that accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      using tmp = tempDir();
      const config = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
      await using registry = await Registry.open({ config });
      await assert.rejects(importFromHuggingFace(registry, 'acme/tiny-llama', { config, timeoutMs: 300 }), (e) => isModelManagerError(e, 'HUB_UNREACHABLE') && /timed out/.test(e.message));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers "already registered" for a known hub id without asking the hub', async () => {
    const down = await startHubServer([]);
    await down.close();
    using tmp = tempDir();
    const config = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_ENDPOINT: down.url });
    await using registry = await Registry.open({ config });
    writeHfCache(config.hf.hubCache, 'acme/cached', SHA, { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG) });
    await importFromHuggingFace(registry, 'acme/cached', { config });
    const again = await importFromHuggingFace(registry, 'acme/cached', { config: loadConfig({ ...process.env, HF_ENDPOINT: down.url, HF_HUB_CACHE: join(tmp.path, 'elsewhere') }) });
    assert.equal(again.action, 'exists');
    assert.equal(again.source, 'registry');
  });
});
