import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { Registry } from '../../src/registry/index.js';
import { APP_MARK, SCHEMA, SCHEMA_VERSION } from '../../src/registry/stores/sqlite-schema.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { sampleModel } from './samples.js';
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
