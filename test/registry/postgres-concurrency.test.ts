/**
 * Many writers on one PostgreSQL registry: processes that add at once lose nothing, a writer
 * killed mid-batch leaves no part of it, concurrent edits of one model are never lost, and a
 * connection dropped mid-write is a STORE_IO error after which the next call simply works.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { Registry, isModelManagerError } from '../../src/index.js';
import { PostgresStore } from '../../src/registry/stores/postgres.js';
import { PG_URL, postgresSkip, schemaOf, schemaUrl, sql } from '../helpers/postgres.js';
import { startWriter } from './contract-durability.js';
import { sampleModel } from './samples.js';

const skip = await postgresSkip();

/** Waits until the store's connection waits on a lock in `schema`, and returns its backend's pid. */
async function blockedBackend(schema: string): Promise<number> {
  for (;;) {
    const rows = await sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity
      WHERE application_name = $1 AND wait_event_type = 'Lock'`, [schema]);
    if (rows[0]) return rows[0].pid;
    await sleep(20);
  }
}

describe('postgres store, many writers', { skip }, () => {
  it('loses nothing when 8 processes add 500 models each at once', { timeout: 300_000 }, async () => {
    const url = schemaUrl('eight-writers');
    const writers = Array.from({ length: 8 }, (_, w) => startWriter('postgres', url, w * 500, 500, `w${w}`, 10));
    assert.deepEqual(await Promise.all(writers.map((w) => w.exited)), Array(8).fill(0));
    await using registry = await Registry.open({ db: url });
    assert.equal(await registry.countModels(), 4000);
    for (let w = 0; w < 8; w++) assert.equal(await registry.countModels({ tags: [`w${w}`] }), 500, `writer ${w}`);
    const stored = new Set((await registry.listModels()).map((m) => m.modelId));
    for (const id of writers.flatMap((w) => w.committed)) assert.ok(stored.has(id), `${id} was reported committed but is missing`);
    assert.equal((await registry.getStats()).totalVersions, 4000);
  });

  it('leaves no part of a batch when its writer is killed with SIGKILL', { timeout: 120_000 }, async () => {
    const url = schemaUrl('killed-batch');
    const batch = 50;
    const writer = startWriter('postgres', url, 0, 1_000_000, 'killed', batch);
    await writer.reached(batch * 5);
    writer.kill();
    assert.equal(await writer.exited, 'SIGKILL');
    await using registry = await Registry.open({ db: url });
    const perBatch = new Map<number, number>();
    for (const m of await registry.listModels()) {
      const i = Number(/model-(\d+)$/.exec(m.modelId)![1]);
      perBatch.set(Math.floor(i / batch), (perBatch.get(Math.floor(i / batch)) ?? 0) + 1);
    }
    for (const [k, n] of perBatch) assert.equal(n, batch, `batch ${k} has ${n} of its ${batch} models`);
    assert.ok(perBatch.size >= 5);
    assert.equal((await registry.getStats()).totalVersions, perBatch.size * batch, 'no version without its model');
  });

  it('never loses an edit that two servers make to one model at once', { timeout: 120_000 }, async () => {
    const url = schemaUrl('concurrent-edits');
    const registries = [await Registry.open({ db: url }), await Registry.open({ db: url })];
    try {
      await registries[0]!.addModel(sampleModel(1, { performanceMetrics: { edits: 0 } }));
      const id = sampleModel(1).modelId;
      const increment = (r: Registry) => r.updateModel(id, (m) => ({ ...m, performanceMetrics: { edits: (m.performanceMetrics.edits ?? 0) + 1 } }));
      const outcomes = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => increment(registries[i % 2]!)));
      const done = outcomes.filter((o) => o.status === 'fulfilled').length;
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(isModelManagerError(o.reason, 'VERSION_CONFLICT'), String(o.reason));
      assert.ok(done > 0);
      assert.equal((await registries[1]!.getModel(id))?.performanceMetrics.edits, done, 'every edit that succeeded is in the record');
      assert.equal((await registries[0]!.listVersions(id)).length, done + 1, 'one version per edit');
    } finally {
      await Promise.all(registries.map((r) => r.close()));
    }
  });

  it('answers STORE_IO when the connection drops mid-write, keeps nothing of it, and reconnects on the next call', { timeout: 60_000 }, async () => {
    const url = schemaUrl('dropped');
    const schema = schemaOf(url);
    await using registry = await Registry.open({ instance: await PostgresStore.open(url) });
    await registry.addModel(sampleModel(1));
    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    try {
      // A batch that waits for another transaction's uncommitted add of one of its models...
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO "${schema}".models SELECT 'org3/model-3', version, model_name, model_type, architecture, arch_label, attention_type, format,
        source, parameter_count, context_length, total_bytes, created_at, updated_at, tags, input_types, output_types, search, data FROM "${schema}".models`);
      const batch = assert.rejects(registry.addModels([sampleModel(2), sampleModel(3), sampleModel(4)]), (error) => {
        assert.ok(isModelManagerError(error, 'STORE_IO'), String(error));
        assert.match(error.message, /lost the connection/);
        return true;
      });
      // ...loses its connection while it waits.
      await sql('SELECT pg_terminate_backend($1)', [await blockedBackend(schema)]);
      await batch;
      await blocker.query('ROLLBACK');

      // The same for an update waiting on a row another transaction holds.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${schema}".models WHERE model_id = 'org1/model-1' FOR UPDATE`);
      const update = assert.rejects(registry.updateModel('org1/model-1', { description: 'lost' }), (error) => isModelManagerError(error, 'STORE_IO'));
      await sql('SELECT pg_terminate_backend($1)', [await blockedBackend(schema)]);
      await update;
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }
    // Nothing of either write was kept, and the very next calls work on a new connection.
    assert.deepEqual((await registry.listModels()).map((m) => m.modelId), ['org1/model-1']);
    assert.equal((await registry.getModel('org1/model-1'))?.description, 'sample model number 1');
    await registry.addModels([sampleModel(2), sampleModel(3), sampleModel(4)]);
    await registry.updateModel('org1/model-1', { description: 'kept' });
    assert.equal(await registry.countModels(), 4);
    assert.deepEqual((await registry.listVersions('org1/model-1')).map((v) => v.version), [1, 2]);
  });

  it('reconnects when every connection of the store was ended', { timeout: 60_000 }, async () => {
    const url = schemaUrl('every-connection-lost');
    await using registry = await Registry.open({ instance: await PostgresStore.open(url) });
    await registry.addModel(sampleModel(1));
    // Several idle connections, all to be ended: a read may be handed each dead one in turn before their errors arrive.
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? registry.countModels() : registry.getStats())));
    // Every connection of the store ends (as when the server restarts); idle ones included.
    const ended = await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [schemaOf(url)]);
    assert.ok(ended.length >= 4);
    assert.equal((await registry.getModel('org1/model-1'))?.modelName, 'model-1', 'a read after the loss reconnects');
    await registry.addModel(sampleModel(2));
    assert.equal(await registry.countModels(), 2);
  });
});
