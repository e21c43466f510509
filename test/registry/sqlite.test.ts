import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { isModelManagerError } from '../../src/errors.js';
import { Registry } from '../../src/registry/index.js';
import { APPLICATION_ID, APP_MARK, SCHEMA, SCHEMA_VERSION } from '../../src/registry/stores/sqlite-schema.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBulkSearches, bulkModels } from './contract-agreement.js';
import { EARLIER_SCHEMA_MODEL, sampleModel } from './samples.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'sqlite',
  kind: 'sqlite',
  newLocation: (dir) => `${dir}/registry.db`,
  open: (path) => SqliteStore.open(path),
  // In WAL mode, whose readers create -wal and -shm files beside it unless it is read with care.
  writeForeign: async (path) => {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (9.5);`);
    db.close();
  },
});

test('a registry written by an earlier release (4 KiB pages) opens, keeps its models and takes new ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mm-sqlite-pages-'));
  try {
    const path = join(dir, 'registry.db');
    // An earlier release's file: the same schema, SQLite's default page size.
    const old = new Database(path);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.exec(SCHEMA);
    old.prepare(`INSERT INTO mm_meta (key, value) VALUES ('app', ?), ('schema', ?)`).run(APP_MARK, SCHEMA_VERSION);
    old.close();
    const config = loadConfig({ MM_HOME: join(dir, 'home') });
    const before = await Registry.open({ store: 'sqlite', db: path, config });
    await before.addModel(sampleModel(1));
    await before.close();

    await using registry = await Registry.open({ store: 'sqlite', db: path, config });
    await registry.addModel(sampleModel(2));
    assert.deepEqual((await registry.listModels()).map((m) => m.modelId), [sampleModel(1).modelId, sampleModel(2).modelId].sort());
    await registry.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('page_size', { simple: true }), 4096, 'an existing file keeps its page size');
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a registry of schema 1 is brought up to date: search finds its labels, localPath is indexed, its header is marked', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'registry.db');
  (await SqliteStore.open(path)).close();
  // What schema 1 was: no local_path column, an FTS index of names, tags and raw descriptions, no mark in the header.
  const old = new Database(path);
  old.exec(`DROP TABLE models_fts; DROP INDEX models_local_path; ALTER TABLE models DROP COLUMN local_path;
    DROP INDEX models_access; ALTER TABLE models DROP COLUMN access_level; ALTER TABLE models DROP COLUMN access_groups;
    CREATE VIRTUAL TABLE models_fts USING fts5(names, tags, description, tokenize = 'unicode61 remove_diacritics 0');
    UPDATE mm_meta SET value = '1' WHERE key = 'schema';`);
  old.pragma('application_id = 0');
  const { modelId, localPath } = EARLIER_SCHEMA_MODEL;
  const record = JSON.stringify({ ...EARLIER_SCHEMA_MODEL, modelName: 'enc-2', description: '', tags: [], capabilities: [], inputs: [], outputs: [], source: 'manual' });
  old.prepare(`INSERT INTO models (model_id, version, model_name, model_type, architecture, source, arch_label) VALUES (?, 1, 'enc-2', 'encoder_only', 'bertformaskedlm', 'manual', 'BertForMaskedLM')`).run(modelId);
  old.prepare(`INSERT INTO model_versions VALUES (?, 1, '2025-01-01T00:00:00.000Z', 'add', ?)`).run(modelId, record);
  old.prepare(`INSERT INTO models_fts (rowid, names, tags, description) SELECT rowid, model_id, '', '' FROM models`).run();
  old.close();

  await using registry = await Registry.open({ instance: await SqliteStore.open(path) });
  assert.deepEqual((await registry.searchModels('bertfor')).map((h) => [h.model.modelId, h.score]), [[modelId, 3]]);
  assert.deepEqual((await registry.listModels({ localPath })).map((m) => m.modelId), [modelId]);
  assert.deepEqual([await registry.countModels({ visibleToGroups: [] }), await registry.countModels({ visibleToGroups: ['lab'] })], [0, 1], 'its access is indexed');
  await registry.addModel(sampleModel(1, { architecture: 'BertForMaskedLM' }));
  assert.deepEqual((await registry.searchModels('masked')).map((h) => h.model.modelId), [modelId, sampleModel(1).modelId]);
  await registry.close();
  assert.equal(readFileSync(path).readInt32BE(68), APPLICATION_ID, 'marked as ours in its header');
});

test('a registry of schema 2 is brought up to date: what a caller may see is counted from the new columns', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'registry.db');
  {
    await using registry = await Registry.open({ instance: await SqliteStore.open(path) });
    await registry.addModels([sampleModel(1), sampleModel(2, { accessLevel: 'restricted', groups: ['lab'] }), sampleModel(3, { accessLevel: 'admin_only' })]);
  }
  // What schema 2 was: no access columns.
  const old = new Database(path);
  old.exec(`DROP INDEX models_access; ALTER TABLE models DROP COLUMN access_level; ALTER TABLE models DROP COLUMN access_groups;
    UPDATE mm_meta SET value = '2' WHERE key = 'schema';`);
  old.close();

  await using registry = await Registry.open({ instance: await SqliteStore.open(path) });
  assert.deepEqual((await registry.listModels({ visibleToGroups: ['lab'] })).map((m) => m.modelId), [sampleModel(1).modelId, sampleModel(2).modelId].sort());
  assert.equal((await registry.getStats({ visibleToGroups: [] })).totalModels, 1);
  assert.deepEqual((await registry.searchModels(sampleModel(3).modelId)).map((h) => h.model.modelId)[0], sampleModel(3).modelId, 'search as before');
});

test('a registry of a newer schema is refused and left as it is', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'registry.db');
  (await SqliteStore.open(path)).close();
  const db = new Database(path);
  db.prepare(`UPDATE mm_meta SET value = ? WHERE key = 'schema'`).run(String(SCHEMA_VERSION + 1));
  db.close();
  const before = readFileSync(path);
  await assert.rejects(SqliteStore.open(path), (e) => isModelManagerError(e, 'STORE_FOREIGN') && /Upgrade Model Manager/.test(e.message));
  assert.deepEqual(readFileSync(path), before);
});

test('searches whose score tiers hold thousands of models (read along the id index) rank as with a few', async () => {
  using dir = tempDir();
  await using registry = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'registry.db')) });
  // 2,501 models: "common", "shared" and "filler" each begin description words of more than 2,000.
  await registry.addModels(bulkModels(2501));
  await assertBulkSearches(registry);
});
