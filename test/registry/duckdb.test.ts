import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Registry, isModelManagerError } from '../../src/index.js';
import { DuckDbStore } from '../../src/registry/stores/duckdb.js';
import { tempDir } from '../helpers/tmp.js';
import { CATALOGUE, EARLIER_SCHEMA_MODEL, sampleModel } from './samples.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'duckdb',
  kind: 'duckdb',
  newLocation: (dir) => `${dir}/registry.duckdb`,
  open: (path) => DuckDbStore.open(path),
  writeForeign: async (path) => {
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE invoices (id INTEGER, total DOUBLE); INSERT INTO invoices VALUES (1, 9.5); CHECKPOINT;`);
    connection.closeSync();
    instance.closeSync();
  },
});

describe('duckdb store', () => {
  it('answers read-only SQL for analytics and refuses writes', async () => {
    using dir = tempDir();
    const store = await DuckDbStore.open(`${dir.path}/registry.duckdb`);
    await using registry = await Registry.open({ instance: store });
    await registry.addModels(CATALOGUE);
    const rows = await store.sql(`SELECT format, count(*)::INTEGER AS n, sum(parameter_count)::DOUBLE AS params
      FROM models WHERE format IS NOT NULL GROUP BY format ORDER BY n DESC, format`);
    assert.deepEqual(rows[0], { format: 'safetensors', n: 3, params: 70e9 + 150e6 + 671e9 });
    assert.deepEqual(await store.sql(`SELECT model_id FROM models WHERE list_contains(tags, ?) ORDER BY 1`, ['chat']),
      [{ model_id: 'meta/llama-7b' }, { model_id: 'mistralai/mistral-7b' }]);
    await assert.rejects(store.sql(`DELETE FROM models`), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(store.sql(`SELECT 1; DROP TABLE models`), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
    assert.equal(await registry.countModels(), CATALOGUE.length);
  });

  it('shares one open file between stores of one process', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.duckdb`;
    await using a = await Registry.open({ instance: await DuckDbStore.open(path) });
    await using b = await Registry.open({ instance: await DuckDbStore.open(path) });
    await Promise.all([a.addModel(sampleModel(1)), b.addModel(sampleModel(2)), a.addModel(sampleModel(3))]);
    assert.equal(await b.countModels(), 3);
  });

  it('gets a turn while another process keeps the file busy', { timeout: 60_000 }, async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.duckdb`;
    await (await DuckDbStore.open(path)).close();
    const reader = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/store-reader.js', import.meta.url)), 'duckdb', path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await once(reader.stdout, 'data');
      // The reader never goes idle; without the hand-over this would fail with STORE_LOCKED.
      await using registry = await Registry.open({ instance: await DuckDbStore.open(path, { lockTimeoutMs: 10_000 }) });
      await registry.addModel(sampleModel(1));
      assert.equal(await registry.countModels(), 1);
    } finally {
      reader.kill('SIGKILL');
      await once(reader, 'close');
    }
  });

  it('fails with STORE_LOCKED when another process holds the file too long', { timeout: 60_000 }, async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.duckdb`;
    await (await DuckDbStore.open(path)).close();
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      import { DuckDBInstance } from '@duckdb/node-api';
      const db = await DuckDBInstance.create(${JSON.stringify(path)});
      await db.connect();
      process.stdout.write('holding\\n');
      setTimeout(() => {}, 60_000);`], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
    try {
      await once(holder.stdout, 'data');
      await assert.rejects(DuckDbStore.open(path, { lockTimeoutMs: 300 }), (e) => isModelManagerError(e, 'STORE_LOCKED'));
      assert.equal(existsSync(`${path}.waiting`), false, 'a waiter that gives up leaves no mark behind');
    } finally {
      holder.kill('SIGKILL');
      await once(holder, 'close');
    }
    await using registry = await Registry.open({ instance: await DuckDbStore.open(path) });
    await registry.addModel(sampleModel(1));
    assert.equal(await registry.countModels(), 1);
  });

  it('brings a registry of schema 1 up to date: search finds its labels, localPath is indexed', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.duckdb`;
    const { modelId, localPath } = EARLIER_SCHEMA_MODEL;
    const record = JSON.stringify({ ...EARLIER_SCHEMA_MODEL, modelName: 'enc-2', description: '', tags: [], capabilities: [], inputs: [], outputs: [], source: 'manual' });
    // What schema 1 was: no local_path, search words of names, tags and description only.
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(`CREATE TABLE mm_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
      CREATE TABLE models (
        model_id VARCHAR PRIMARY KEY, version INTEGER NOT NULL, model_name VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
        architecture VARCHAR NOT NULL, arch_label VARCHAR NOT NULL, attention_type VARCHAR, format VARCHAR, source VARCHAR NOT NULL,
        parameter_count BIGINT, context_length BIGINT, total_bytes BIGINT, created_at VARCHAR, updated_at VARCHAR,
        tags VARCHAR[] NOT NULL, input_types VARCHAR[] NOT NULL, output_types VARCHAR[] NOT NULL,
        search_names VARCHAR NOT NULL, search_tags VARCHAR NOT NULL, search_text VARCHAR NOT NULL, data VARCHAR NOT NULL);
      CREATE INDEX models_type ON models(model_type);
      CREATE INDEX models_arch ON models(architecture);
      CREATE TABLE model_versions (
        model_id VARCHAR NOT NULL, version INTEGER NOT NULL, created_at VARCHAR NOT NULL, change VARCHAR NOT NULL, data VARCHAR NOT NULL,
        PRIMARY KEY (model_id, version));
      CREATE TABLE model_cache (model_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, expires_at BIGINT, PRIMARY KEY (model_id, key));
      INSERT INTO mm_meta VALUES ('app', 'model-manager'), ('schema', '1');`);
    await c.run(`INSERT INTO models VALUES (?, 1, 'enc-2', 'encoder_only', 'bertformaskedlm', 'BertForMaskedLM', NULL, NULL, 'manual',
      NULL, NULL, NULL, NULL, NULL, [], [], [], ' local enc 2 enc 2', '', '', ?)`, [modelId, record]);
    await c.run(`INSERT INTO model_versions VALUES (?, 1, '2025-01-01T00:00:00.000Z', 'add', ?)`, [modelId, record]);
    await c.run('CHECKPOINT');
    c.closeSync();
    instance.closeSync();

    await using registry = await Registry.open({ instance: await DuckDbStore.open(path) });
    assert.deepEqual((await registry.searchModels('bertfor')).map((h) => [h.model.modelId, h.score]), [[modelId, 3]]);
    assert.deepEqual((await registry.listModels({ localPath })).map((m) => m.modelId), [modelId]);
    assert.deepEqual([await registry.countModels({ visibleToGroups: [] }), await registry.countModels({ visibleToGroups: ['lab'] })], [0, 1], 'its access is indexed');
    await registry.addModel(sampleModel(1, { architecture: 'BertForMaskedLM' }));
    assert.deepEqual((await registry.searchModels('masked')).map((h) => h.model.modelId), [modelId, sampleModel(1).modelId]);
    assert.deepEqual((await registry.listVersions(modelId)).map((v) => v.change), ['add'], 'its history is kept');
  });

  it('takes a search tier as the answer only when no model below it can score more', async () => {
    using dir = tempDir();
    await using registry = await Registry.open({ instance: await DuckDbStore.open(`${dir.path}/registry.duckdb`) });
    const model = (modelId: string, tags: string[], description: string) => sampleModel(0, { modelId, tags, description });
    await registry.addModels([
      // "zeta quark": a name word's start and a label word's start (6 + 3), more than the 3 asked for ...
      ...[1, 2, 3, 4].map((n) => model(`t/zetax-${n}`, ['quarks'], 'plain')),
      // ... yet a name word with the other term in the description only scores more (10 + 1).
      model('t/zeta-d', [], 'a quark inside'),
      // "kappa long context": a name word and a label's two words (10 + 5 + 5) ...
      ...[1, 2, 3, 4].map((n) => model(`t/kappa-f${n}`, ['long-context'], 'plain')),
      // ... where two name words and a description word make 10 + 10 + 1.
      model('t/kappa-long-w', [], 'context here'),
      // "gamma": a label word (5), then description words (1), each model once.
      model('t/g1', ['gamma'], 'gamma too'),
      model('t/g2', [], 'gamma'),
      model('t/g3', [], 'gamma'),
    ]);
    const search = async (text: string, limit: number) => (await registry.searchModels(text, { limit })).map((h) => [h.model.modelId, h.score]);
    assert.deepEqual(await search('zeta quark', 3), [['t/zeta-d', 11], ['t/zetax-1', 9], ['t/zetax-2', 9]]);
    assert.deepEqual(await search('kappa long context', 3), [['t/kappa-long-w', 21], ['t/kappa-f1', 20], ['t/kappa-f2', 20]]);
    assert.deepEqual(await search('kappa context', 3), [['t/kappa-f1', 15], ['t/kappa-f2', 15], ['t/kappa-f3', 15]]);
    assert.deepEqual(await search('gamma', 5), [['t/g1', 5], ['t/g2', 1], ['t/g3', 1]]);
  });

  it('brings a registry of schema 3 up to date: its names and labels are searched as before', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.duckdb`;
    const model = { ...sampleModel(1), modelName: 'model-1', tags: ['rag'], capabilities: [], source: 'manual', accessLevel: 'public' };
    const record = JSON.stringify(model);
    // What schema 3 was: the words of the labels in a column of their own.
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(`CREATE TABLE mm_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
      CREATE TABLE models (
        model_id VARCHAR PRIMARY KEY, version INTEGER NOT NULL, model_name VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
        architecture VARCHAR NOT NULL, arch_label VARCHAR NOT NULL, attention_type VARCHAR, format VARCHAR, source VARCHAR NOT NULL,
        parameter_count BIGINT, context_length BIGINT, total_bytes BIGINT, created_at VARCHAR, updated_at VARCHAR, local_path VARCHAR,
        access_level VARCHAR NOT NULL, access_groups VARCHAR[] NOT NULL, tags VARCHAR[] NOT NULL, input_types VARCHAR[] NOT NULL, output_types VARCHAR[] NOT NULL,
        search_names VARCHAR NOT NULL, search_labels VARCHAR NOT NULL, search_text VARCHAR NOT NULL, data VARCHAR NOT NULL);
      CREATE TABLE model_versions (
        model_id VARCHAR NOT NULL, version INTEGER NOT NULL, created_at VARCHAR NOT NULL, change VARCHAR NOT NULL, data VARCHAR NOT NULL,
        PRIMARY KEY (model_id, version));
      CREATE TABLE model_cache (model_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, expires_at BIGINT, PRIMARY KEY (model_id, key));
      INSERT INTO mm_meta VALUES ('app', 'model-manager'), ('schema', '3');`);
    await c.run(`INSERT INTO models VALUES (?, 1, 'model-1', 'decoder_only', 'llamaforcausallm', 'LlamaForCausalLM', 'gqa', 'gguf', 'manual',
      2000000, NULL, NULL, NULL, NULL, NULL, 'public', [], ['rag'], ['TEXT'], ['TOKENS'], ' org1 model 1 model 1 ',
      ' rag decoder only llamaforcausallm llama for causal lm ', ' sample model number 1 ', ?)`, [model.modelId, record]);
    await c.run(`INSERT INTO model_versions VALUES (?, 1, '2025-01-01T00:00:00.000Z', 'add', ?)`, [model.modelId, record]);
    await c.run('CHECKPOINT');
    c.closeSync();
    instance.closeSync();

    await using registry = await Registry.open({ instance: await DuckDbStore.open(path) });
    const search = async (text: string) => (await registry.searchModels(text)).map((h) => [h.model.modelId, h.score]);
    assert.deepEqual(await search('rag'), [[model.modelId, 5]]);
    assert.deepEqual(await search('causal model'), [[model.modelId, 15]]);
    assert.deepEqual(await search('numb'), [[model.modelId, 1]]);
    assert.deepEqual((await registry.listVersions(model.modelId)).map((v) => v.change), ['add'], 'its history is kept');
  });

  it('refuses a registry of a newer schema and leaves it as it is', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.duckdb`;
    await (await DuckDbStore.open(path)).close();
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    await c.run(`UPDATE mm_meta SET value = '99' WHERE key = 'schema'; CHECKPOINT`);
    c.closeSync();
    instance.closeSync();
    const before = readFileSync(path);
    await assert.rejects(DuckDbStore.open(path), (e) => isModelManagerError(e, 'STORE_FOREIGN') && /Upgrade Model Manager/.test(e.message));
    assert.deepEqual(readFileSync(path), before);
  });
});
