/**
 * Moving a registry between stores with every version: `mm export --with-history` from one,
 * `mm restore` into another (JSON, and PostgreSQL when a server is there), a restore that stopped
 * part way going on where it stopped, and a bad history refused before anything is written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry, isModelManagerError, type ModelMetadata, type VersionInfo } from '../../src/index.js';
import { JsonStore } from '../../src/registry/stores/json.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { postgresSkip, schemaUrl } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { sampleModel } from './samples.js';

const pgSkip = await postgresSkip();
const MM = join(process.cwd(), 'bin/mm.js');

/** A registry with a history: edits, an alias, a rollback, a measurement kept in the current version. */
async function withHistory(registry: Registry): Promise<void> {
  await registry.addModels([sampleModel(1), sampleModel(2)]);
  await registry.addModel(sampleModel(3), 'discovered');
  await registry.updateModel('org1/model-1', { description: 'second' });
  await registry.setAlias('org1/model-1', 'production', 2);
  await registry.updateModel('org1/model-1', { description: 'third', tags: ['c'] });
  await registry.rollback('org1/model-1', 2);
  await registry.recordMeasured('org1/model-1', { loadTimeMs: 12, memoryBytes: 1024, device: 'cpu', at: '2026-01-01T00:00:00.000Z' });
  await registry.addQualityMetric({ modelId: 'org3/model-3', name: 'MMLU', value: 0.5 });
}

/** Every model with every version, as a registry answers for it. */
async function everything(registry: Registry): Promise<Record<string, { versions: VersionInfo[]; records: ModelMetadata[]; current: ModelMetadata }>> {
  const out: Record<string, { versions: VersionInfo[]; records: ModelMetadata[]; current: ModelMetadata }> = {};
  for (const current of await registry.listModels()) {
    const versions = await registry.listVersions(current.modelId);
    const records = await Promise.all(versions.map((v) => registry.getVersion(current.modelId, v.version)));
    out[current.modelId] = { versions, records, current };
  }
  return out;
}

function mm(db: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [MM, '--json', '--db', db, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('export and restore with history', () => {
  it('moves every version, with its number, time and change, to another store', async () => {
    using dir = tempDir();
    await using source = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'registry.db')) });
    await withHistory(source);
    const file = join(dir.path, 'export.json');
    assert.equal(await source.exportMetadata(file, 'json', { withHistory: true }), 3);
    await using target = await Registry.open({ instance: await JsonStore.open(join(dir.path, 'registry.json')) });
    const result = await target.importMetadata(file);
    assert.deepEqual(result.added.sort(), ['org1/model-1', 'org2/model-2', 'org3/model-3']);
    assert.equal(result.restoredVersions, 8);
    const expected = await everything(source);
    assert.deepEqual(await everything(target), expected);
    assert.deepEqual(expected['org1/model-1']!.versions.map((v) => v.change), ['add', 'update', 'alias production -> 2', 'update', 'rollback to 2']);
    const again = await target.importMetadata(file);
    assert.deepEqual([again.added, again.updated, again.unchanged.length, again.restoredVersions], [[], [], 3, 0], 'a second restore changes nothing');
  });

  it('goes on where a restore that stopped left off', async () => {
    using dir = tempDir();
    await using source = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'registry.db')) });
    await withHistory(source);
    const file = join(dir.path, 'export.json');
    await source.exportMetadata(file, 'json', { withHistory: true });
    // A restore that got as far as version 2 of one model before it stopped.
    const history = (JSON.parse(readFileSync(file, 'utf8')) as { history: Record<string, { model: ModelMetadata; change: string }[]> }).history['org1/model-1']!;
    await using target = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'target.db')) });
    await target.store.insert([history[0]!.model], history[0]!.change);
    await target.store.update(history[1]!.model, history[1]!.change, 1);
    const result = await target.importMetadata(file);
    assert.equal(result.restoredVersions, 8 - 2);
    assert.deepEqual(await everything(target), await everything(source));
  });

  it('refuses a history that skips a version, writing nothing', async () => {
    using dir = tempDir();
    const file = join(dir.path, 'export.json');
    const model = { ...sampleModel(1), modelName: 'model-1' };
    writeFileSync(file, JSON.stringify({
      models: [model], history: { 'org1/model-1': [{ version: 1, createdAt: '2026-01-01T00:00:00Z', change: 'add', model }, { version: 3, createdAt: '2026-01-02T00:00:00Z', change: 'update', model }] },
    }));
    await using target = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'registry.db')) });
    await assert.rejects(target.importMetadata(file), (e) => isModelManagerError(e, 'INVALID_FILE') && /version: 2/.test(e.message));
    assert.equal(await target.countModels(), 0);
  });

  it('moves a SQLite registry into PostgreSQL with mm export --with-history and mm restore', { skip: pgSkip, timeout: 60_000 }, async () => {
    using dir = tempDir();
    const sqlite = join(dir.path, 'registry.db');
    const source = await Registry.open({ instance: await SqliteStore.open(sqlite) });
    await withHistory(source);
    const expected = await everything(source);
    await source.close();
    const file = join(dir.path, 'moved.yaml');
    assert.deepEqual(mm(sqlite, 'export', file, '--with-history'), { file, count: 3, withHistory: true });
    const url = schemaUrl('moved');
    assert.deepEqual(mm(url, 'restore', file), { added: ['org1/model-1', 'org2/model-2', 'org3/model-3'], updated: [], unchanged: [], restoredVersions: 8 });
    await using target = await Registry.open({ db: url });
    assert.equal(target.store.kind, 'postgres');
    assert.deepEqual(await everything(target), expected);
  });
});
