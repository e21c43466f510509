/**
 * The postgres store on a real PostgreSQL server: the contract every store keeps, and what is
 * its own: schema migrations, refusals, search through the tsvector, and the URL it takes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry, isModelManagerError, type ErrorCode, type RegistryChange } from '../../src/index.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/registry/stores/postgres-schema.js';
import { PostgresStore } from '../../src/registry/stores/postgres.js';
import { validateModel } from '../../src/registry/validate.js';
import { PG_URL, dropSchema, postgresSkip, schemaOf, schemaSnapshot, schemaUrl, sql } from '../helpers/postgres.js';
import { sampleModel } from './samples.js';
import { runStoreContract } from './store-contract.js';

const skip = await postgresSkip();

describe('postgres store', { skip }, () => {
  runStoreContract({
    name: 'postgres',
    kind: 'postgres',
    newLocation: (dir) => schemaUrl(dir),
    dropLocation: (url) => dropSchema(schemaOf(url)),
    open: (url) => PostgresStore.open(url),
  });

  const refusals: { what: string; code: ErrorCode; write: (url: string) => Promise<void> }[] = [
    {
      what: 'a schema of another program', code: 'STORE_FOREIGN',
      write: async (url) => {
        const schema = schemaOf(url);
        await sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".invoices (id integer PRIMARY KEY, total numeric); INSERT INTO "${schema}".invoices VALUES (1, 9.5)`);
      },
    },
    {
      what: 'a schema of another program with a models table', code: 'STORE_FOREIGN',
      write: async (url) => {
        const schema = schemaOf(url);
        await sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".models (id integer PRIMARY KEY, name text); INSERT INTO "${schema}".models VALUES (1, 'not ours')`);
      },
    },
    {
      what: 'a registry written by a newer release', code: 'STORE_TOO_NEW',
      write: async (url) => {
        const registry = await Registry.open({ instance: await PostgresStore.open(url) });
        await registry.addModel(sampleModel(1));
        await registry.close();
        await sql(`INSERT INTO "${schemaOf(url)}".mm_schema_migrations (version, description) VALUES ($1, 'from the future')`, [SCHEMA_VERSION + 1]);
      },
    },
  ];
  for (const { what, code, write } of refusals) {
    it(`refuses ${what} with ${code}, leaving every table of it as it was`, async () => {
      const url = schemaUrl(`refuse ${what}`);
      await write(url);
      const before = await schemaSnapshot(schemaOf(url));
      await assert.rejects(PostgresStore.open(url), (error) => {
        assert.ok(isModelManagerError(error, code), `expected ${code}, got ${String(error)}`);
        assert.match(error.message, /left untouched/);
        return true;
      });
      await assert.rejects(Registry.open({ store: 'postgres', db: url }), (error) => isModelManagerError(error, code));
      assert.deepEqual(await schemaSnapshot(schemaOf(url)), before);
    });
  }

  it('migrates a registry of an older schema in one go, keeping its models: search finds their labels, localPath is indexed, access is counted', async () => {
    const url = schemaUrl('older-schema');
    const schema = schemaOf(url);
    // A registry as the first release left it: schema version 1 and a model in it.
    await sql(`CREATE SCHEMA "${schema}"`);
    await sql(`CREATE TABLE "${schema}".mm_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE "${schema}".mm_schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO "${schema}".mm_meta VALUES ('app', 'model-manager');
      ${MIGRATIONS[0]!.sql(`"${schema}"`)}
      INSERT INTO "${schema}".mm_schema_migrations (version, description) VALUES (1, 'first');`);
    // A whole record, as every release stored them (validated, defaults filled).
    const record = JSON.stringify(validateModel({ ...sampleModel(1), modelName: 'model-1', tags: ['a'], inputs: [], outputs: [], description: 'old', localPath: '/models/old-one', accessLevel: 'restricted', groups: ['team'] }));
    await sql(`INSERT INTO "${schema}".models (model_id, version, model_name, model_type, architecture, arch_label, source, tags, input_types, output_types, search, data)
      VALUES ('org1/model-1', 1, 'model-1', 'decoder_only', 'llamaforcausallm', 'LlamaForCausalLM', 'manual', '{a}', '{}', '{}', '''old'':3C', $1::json);
      `.trim(), [record]);
    await sql(`INSERT INTO "${schema}".model_versions VALUES ('org1/model-1', 1, '2026-01-01T00:00:00.000Z', 'add', $1::json)`, [record]);
    assert.deepEqual((await sql(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'cluster%'`, [schema])), []);

    await using registry = await Registry.open({ db: url });
    const versions = await sql<{ version: number }>(`SELECT version FROM "${schema}".mm_schema_migrations ORDER BY 1`);
    assert.deepEqual(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version));
    assert.equal((await registry.getModel('org1/model-1'))?.description, 'old');
    assert.deepEqual((await registry.searchModels('causal')).map((h) => [h.model.modelId, h.score]), [['org1/model-1', 5]], 'a camel-case part of its architecture');
    assert.deepEqual((await registry.listModels({ localPath: '/models/old-one' })).map((m) => m.modelId), ['org1/model-1']);
    const [index] = await sql<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND indexname = 'models_local_path'`, [schema]);
    assert.match(index?.def ?? '', /\(local_path, model_id\)/, 'an index for it');
    assert.deepEqual((await registry.store.cluster?.hosts()), [], 'the tables of the newer schema are there');
    assert.deepEqual([await registry.countModels({ visibleToGroups: [] }), await registry.countModels({ visibleToGroups: ['team'] })], [0, 1],
      'what a caller may see is counted from the access columns filled from the record');
  });

  it('rolls a failed migration back whole, and refuses a URL that is not postgres://', async () => {
    await assert.rejects(PostgresStore.open('/tmp/registry.db'), (e) => isModelManagerError(e, 'INVALID_CONFIG'));
    await assert.rejects(PostgresStore.open(`${schemaUrl('x').replace(/schema=[^&]+/, 'schema=bad;name')}`), (e) => isModelManagerError(e, 'INVALID_CONFIG'));
    const url = schemaUrl('half-migrated');
    const schema = schemaOf(url);
    // Someone made a table the second migration needs: it fails, and nothing of the upgrade stays.
    await sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".mm_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE "${schema}".mm_schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO "${schema}".mm_meta VALUES ('app', 'model-manager'); ${MIGRATIONS[0]!.sql(`"${schema}"`)}
      INSERT INTO "${schema}".mm_schema_migrations (version, description) VALUES (1, 'first');
      CREATE TABLE "${schema}".cluster_hosts (x integer);`);
    const before = await schemaSnapshot(schema);
    await assert.rejects(PostgresStore.open(url), (e) => isModelManagerError(e, 'STORE_IO'));
    assert.deepEqual(await schemaSnapshot(schema), before);
  });

  it('takes what the URL leaves out from the PG* variables, and the store from a postgres:// MM_DB', async () => {
    const server = new URL(PG_URL!);
    const schema = schemaOf(schemaUrl('pg-variables'));
    const env = {
      ...process.env, MM_STORE: '', MM_DB: `postgres:///?schema=${schema}`,
      PGHOST: server.hostname, PGPORT: server.port || '5432', PGUSER: decodeURIComponent(server.username), PGDATABASE: server.pathname.slice(1) || 'postgres',
    };
    const stats = spawnSync(process.execPath, [join(process.cwd(), 'bin/mm.js'), '--json', 'stats'], { env, encoding: 'utf8' });
    assert.equal(stats.status, 0, stats.stderr);
    assert.equal((JSON.parse(stats.stdout) as { totalModels: number }).totalModels, 0);
    assert.equal((await sql(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'models'`, [schema])).length, 1, 'the registry is in that server');
  });

  it('tells a watcher of the writes to a registry whose schema name is as long as PostgreSQL allows', { timeout: 60_000 }, async () => {
    const schema = `mmt_long_${'x'.repeat(54)}`;
    const url = `${PG_URL}${PG_URL!.includes('?') ? '&' : '?'}schema=${schema}`;
    try {
      await using watcher = await Registry.open({ db: url });
      await using writer = await Registry.open({ db: url });
      const seen: RegistryChange[] = [];
      let wake: () => void = () => undefined;
      const stop = watcher.store.watch!((change) => {
        seen.push(change);
        wake();
      });
      try {
        while (seen.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        await writer.addModel(sampleModel(1));
        while (seen.length < 2) await new Promise<void>((resolve) => (wake = resolve));
        assert.deepEqual(seen.map((c) => c.op), ['resync', 'insert']);
      } finally {
        stop();
      }
    } finally {
      await dropSchema(schema);
    }
  });

  it('tells a watcher of every write another process makes: adds, edits, measurements, removals', async () => {
    const url = schemaUrl('watched');
    await using watcher = await Registry.open({ db: url });
    await using writer = await Registry.open({ db: url });
    const changes: RegistryChange[] = [];
    let wake: () => void = () => undefined;
    const stop = watcher.store.watch!((change) => {
      changes.push(change);
      wake();
    });
    const next = async (): Promise<RegistryChange> => {
      while (changes.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return changes.shift()!;
    };
    try {
      assert.equal((await next()).op, 'resync', 'listening');
      await writer.addModels([sampleModel(1), sampleModel(2)]);
      assert.deepEqual(await next(), { op: 'insert', count: 2, modelIds: ['org1/model-1', 'org2/model-2'] });
      await writer.updateModel('org1/model-1', { description: 'edited' });
      assert.deepEqual(await next(), { op: 'update', count: 1, modelIds: ['org1/model-1'] });
      await writer.recordMeasured('org2/model-2', { loadTimeMs: 1, memoryBytes: 1, device: 'cpu', at: '2026-01-01T00:00:00.000Z' });
      assert.deepEqual(await next(), { op: 'update', count: 1, modelIds: ['org2/model-2'] });
      await writer.removeModel('org2/model-2');
      assert.deepEqual(await next(), { op: 'delete', count: 1, modelIds: ['org2/model-2'] });
      await assert.rejects(writer.addModel(sampleModel(1)), (e) => isModelManagerError(e, 'MODEL_EXISTS'));
      await writer.updateModel('org1/model-1', { description: 'again' });
      assert.deepEqual(await next(), { op: 'update', count: 1, modelIds: ['org1/model-1'] }, 'a refused write tells nothing');
    } finally {
      stop();
    }
  });

  it('hides a deleted model from every read of every client, keeps its history, and restores it by rollback', async () => {
    const url = schemaUrl('soft-delete');
    await using writer = await Registry.open({ db: url });
    await using reader = await Registry.open({ db: url });
    await writer.addModels([sampleModel(1), sampleModel(2)]);
    const id = sampleModel(1).modelId;
    assert.equal(await writer.deleteModel(id), true);
    assert.equal(await reader.getModel(id), undefined);
    assert.deepEqual((await reader.listModels()).map((m) => m.modelId), [sampleModel(2).modelId]);
    assert.equal(await reader.countModels(), 1);
    assert.deepEqual((await reader.searchModels('model')).map((h) => h.model.modelId), [sampleModel(2).modelId]);
    assert.equal((await reader.getStats()).totalModels, 1);
    assert.deepEqual((await reader.listDeleted()).map((m) => m.modelId), [id]);
    await assert.rejects(reader.addModel(sampleModel(1)), (e) => isModelManagerError(e, 'MODEL_EXISTS') && /was deleted/.test(e.message));
    assert.deepEqual((await reader.listVersions(id)).map((v) => v.change), ['add', 'delete']);
    await reader.rollback(id, 1);
    assert.equal((await writer.getModel(id))?.description, sampleModel(1).description);
    assert.equal(await writer.deleteModel(id, { hard: true }), true);
    await assert.rejects(reader.listVersions(id), (e) => isModelManagerError(e, 'MODEL_NOT_FOUND'));
  });

  it('answers STORE_IO naming the server when none answers there', async () => {
    await assert.rejects(PostgresStore.open('postgres://nobody@127.0.0.1:1/none'), (error) => {
      assert.ok(isModelManagerError(error, 'STORE_IO'), String(error));
      assert.match(error.message, /127\.0\.0\.1:1/);
      return true;
    });
  });

  it('keeps the password out of its location and messages', async () => {
    const store = await PostgresStore.open(schemaUrl('location'));
    try {
      assert.doesNotMatch(store.location, /:[^:@/]+@/, 'no password shows');
    } finally {
      await store.close();
    }
    await assert.rejects(PostgresStore.open('postgres://user:s3cret@127.0.0.1:1/none'), (error) => {
      assert.ok(error instanceof Error);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });

  it('finds words in any script, split and lower-cased as the other stores do', async () => {
    await using registry = await Registry.open({ instance: await PostgresStore.open(schemaUrl('scripts')) });
    await registry.addModels([
      { modelId: 'zh/qwen-chat', modelType: 'decoder_only', description: '中文模型 for naïve users', tags: ['long-context'] },
      { modelId: 'x/o-reilly', modelType: 'decoder_only', description: "it's O'Reilly's \\model\\ with 'quotes'" },
    ]);
    const ids = async (text: string) => (await registry.searchModels(text)).map((h) => h.model.modelId);
    assert.deepEqual(await ids('中文'), ['zh/qwen-chat']);
    assert.deepEqual(await ids('NAÏVE'), ['zh/qwen-chat']);
    assert.deepEqual(await ids('context long'), ['zh/qwen-chat']);
    assert.deepEqual(await ids("o'reilly"), ['x/o-reilly']);
    assert.deepEqual(await ids('\\model'), ['x/o-reilly']);
    assert.deepEqual(await ids(`${'x'.repeat(600)}`), []);
    // Lower-cased as the other stores do it, whatever the server's locale.
    await registry.addModel({ modelId: 'x/uber', modelType: 'decoder_only', architecture: 'ÜberNetForCausalLM' });
    assert.deepEqual((await registry.listModels({ architecture: 'übernetforcausallm' })).map((m) => m.modelId), ['x/uber']);
  });
});
