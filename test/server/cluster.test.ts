/**
 * Two `mm serve` processes on one PostgreSQL registry, as two hosts of a team run them: a write on
 * one is read on the other (and reaches the other's event stream), a model one loads shows in the
 * other's /api/cluster, a killed one shows as gone and then expires, one that stops leaves at once.
 * And /api/cluster of a server whose registry no other host shares: that server alone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { ApiKeys, ClusterMembership, Registry, createApiKey, createServer, describeHost, writeTestModel, type ClusterHost, type LoadedModelEntry } from '../../src/index.js';
import { postgresSkip, schemaUrl } from '../helpers/postgres.js';
import { startMmServe, type MmServer } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startHarness } from './harness.js';

const skip = await postgresSkip();
const MM = join(process.cwd(), 'bin', 'mm.js');

type Server = MmServer;

/** Starts `mm serve` as host `host` on the shared registry, returning its URL once it listens. */
function serve(host: string, db: string, home: string, modelRoot: string): Promise<Server> {
  const env = { ...process.env, MM_HOME: join(home, host), MM_HOST_ID: host, MM_DB: db, MM_API_KEYS_FILE: '' };
  return startMmServe(['--port', '0', '--no-discovery', '--model-root', modelRoot, '--heartbeat', '100ms'], env);
}

async function cluster(server: Server): Promise<ClusterHost[]> {
  const res = await fetch(`${server.url}/api/cluster`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { hosts: ClusterHost[] }).hosts;
}

/** Asks `server` for the cluster until `ok` holds: waits for a change other processes make, with no deadline of its own. */
async function until(server: Server, ok: (hosts: ClusterHost[]) => boolean): Promise<ClusterHost[]> {
  for (;;) {
    const hosts = await cluster(server);
    if (ok(hosts)) return hosts;
    await sleep(50);
  }
}

/** The server-sent events of `url`, one at a time. */
async function eventStream(url: string): Promise<{ next(): Promise<{ event: string; data: unknown }>; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event) return { event, data: data === undefined ? undefined : JSON.parse(data) };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffer += value;
      }
    },
    close: () => abort.abort(),
  };
}

describe('two mm serve processes on one PostgreSQL registry', { skip }, () => {
  it('share writes, events, and each other\'s loaded models; a killed one goes, a stopped one leaves', { timeout: 180_000 }, async () => {
    using home = tempDir();
    const db = schemaUrl('two-servers');
    const models = join(home.path, 'models');
    await writeTestModel({ format: 'gguf', task: 'embedding', out: join(models, 'tiny-embed') });
    const a = await serve('host-a', db, home.path, models);
    const b = await serve('host-b', db, home.path, models);
    try {
      // Both registered, each seen by the other.
      const hosts = await until(b, (h) => h.length === 2);
      assert.deepEqual(hosts.map((h) => [h.hostId, h.url, h.status]), [['host-a', a.url, 'live'], ['host-b', b.url, 'live']]);
      assert.ok(hosts.every((h) => h.info.devices.some((d) => d.kind === 'cpu') && h.info.memory.totalBytes > 0 && h.heartbeatMs === 100));

      // A write on A is read on B, and B's event stream hears of it.
      const events = await eventStream(`${b.url}/api/events`);
      try {
        assert.equal((await events.next()).event, 'resync', 'B listens');
        const added = await fetch(`${a.url}/api/models`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ modelId: 'team/shared-model', modelType: 'decoder_only', description: 'written on A' }),
        });
        assert.equal(added.status, 201, await added.text());
        assert.deepEqual(await events.next(), { event: 'change', data: { op: 'insert', count: 1 } });
        const read = await fetch(`${b.url}/api/models/team/shared-model`);
        assert.equal(((await read.json()) as { description: string }).description, 'written on A');
      } finally {
        events.close();
      }

      // A model A loads shows in B's view of the cluster.
      const registered = await fetch(`${b.url}/api/models`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ modelId: 'team/tiny-embed', modelType: 'embedding_model', format: 'gguf', localPath: join(models, 'tiny-embed') }),
      });
      assert.equal(registered.status, 201, await registered.text());
      const task = await fetch(`${a.url}/api/task`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ taskData: null, taskType: 'embedding', modelName: 'team/tiny-embed', keepAlive: -1 }),
      });
      assert.equal(task.status, 200, await task.text());
      const loaded = await until(b, (h) => (h.find((x) => x.hostId === 'host-a')?.models.length ?? 0) > 0);
      const entry = loaded.find((x) => x.hostId === 'host-a')!.models[0]!;
      assert.deepEqual([entry.model, entry.device, entry.workers > 0, entry.sizeBytes > 0], ['team/tiny-embed', 'cpu', true, true]);
      assert.deepEqual(loaded.find((x) => x.hostId === 'host-b')!.models, []);
      // mm ps --all reads the same from the shared registry, as JSON and as a table.
      const ps = spawnSync(process.execPath, [MM, '--json', '--db', db, 'ps', '--all'], { encoding: 'utf8' });
      assert.equal(ps.status, 0, ps.stderr);
      const all = JSON.parse(ps.stdout) as { scope: string; hosts: ClusterHost[] };
      assert.deepEqual(all.hosts.map((h) => [h.hostId, h.models.map((m) => m.model)]), [['host-a', ['team/tiny-embed']], ['host-b', []]]);
      const table = spawnSync(process.execPath, [MM, '--db', db, 'ps', '--all'], { encoding: 'utf8' });
      assert.match(table.stdout, /^HOST\s+URL\s+STATUS.*\nhost-a\s+http:\S+\s+live\s+.*tiny-embed\s+ready\s+cpu\s+\d+/m);

      // A is killed: B shows it gone (without its models) once three heartbeats are missed, then its rows expire.
      a.child.kill('SIGKILL');
      await once(a.child, 'exit');
      const gone = await until(b, (h) => h.find((x) => x.hostId === 'host-a')?.status === 'gone');
      assert.deepEqual(gone.find((x) => x.hostId === 'host-a')!.models, []);
      await until(b, (h) => h.every((x) => x.hostId !== 'host-a'));

      // B stops: it leaves the cluster at once.
      b.child.kill('SIGTERM');
      await once(b.child, 'exit');
      await using registry = await Registry.open({ db });
      assert.deepEqual(await registry.store.cluster!.hosts(), []);
    } finally {
      for (const s of [a, b]) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    }
  });
});

describe('/api/cluster and who may see what', { skip }, () => {
  it('lists to a reader only the loaded models it may see, on every host', async () => {
    const db = schemaUrl('cluster-access');
    await using registry = await Registry.open({ db });
    await registry.addModels([
      { modelId: 'team/open', modelType: 'embedding_model' },
      { modelId: 'team/secret', modelType: 'embedding_model', accessLevel: 'admin_only' },
    ]);
    const entry = (model: string): LoadedModelEntry => ({
      name: model, model, state: 'ready', backend: 'llama-cpp', device: 'cpu', workers: 1, sizeBytes: 1, sizeVram: 0, queue: 0, running: 1,
      tasks: [{ taskType: 'embedding', state: 'running', since: '2026-01-01T00:00:00.000Z' }],
      loadedAt: '2026-01-01T00:00:00.000Z', lastUsedAt: '2026-01-01T00:00:00.000Z', expiresAt: null,
    });
    // Another server has loaded both models and a path nobody registered.
    const other = await ClusterMembership.join({
      cluster: registry.store.cluster!, hostId: 'other', url: 'http://10.0.0.9:8080', describe: () => describeHost(),
      loaded: () => [entry('team/open'), entry('team/secret'), entry('/srv/models/unregistered')],
    });
    const reader = createApiKey({ user: 'rita', role: 'reader' });
    const admin = createApiKey({ user: 'ada', role: 'admin' });
    const app = await createServer({ registry, auth: ApiKeys.fromRecords([reader.record, admin.record]), hostId: 'here' });
    try {
      const models = async (key: string) => {
        const res = await app.inject({ url: '/api/cluster', headers: { authorization: `Bearer ${key}` } });
        assert.equal(res.statusCode, 200, res.body);
        return (res.json() as { hosts: ClusterHost[] }).hosts.find((h) => h.hostId === 'other')!.models.map((m) => m.model);
      };
      assert.deepEqual(await models(reader.key), ['team/open']);
      assert.deepEqual(await models(admin.key), ['/srv/models/unregistered', 'team/open', 'team/secret']);
      assert.equal((await app.inject('/api/cluster')).statusCode, 401);

      // The event stream says that something changed, never which model: a reader learns no hidden id from it.
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const abort = new AbortController();
      const res = await fetch(`${address}/api/events`, { headers: { authorization: `Bearer ${reader.key}` }, signal: abort.signal });
      assert.equal(res.status, 200);
      const stream = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = '';
      const readUntil = async (text: string) => {
        while (!seen.includes(text)) {
          const { value, done } = await stream.read();
          if (done) throw new Error(`the event stream ended before "${text}": ${seen}`);
          seen += value;
        }
      };
      await readUntil('event: resync');
      await registry.updateModel('team/secret', { description: 'moved to a new box' });
      await readUntil('event: change');
      abort.abort();
      assert.match(seen, /event: change\ndata: \{"op":"update","count":1\}\n\n/);
      assert.doesNotMatch(seen, /team\/secret/);
    } finally {
      await app.close();
      await other.leave();
    }
  });
});

describe('/api/cluster of a registry no other host shares', () => {
  it('lists this server alone, with what its runtime has loaded', async () => {
    await using h = await startHarness({});
    const res = await h.app.inject('/api/cluster');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { shared: boolean; hostId: string; hosts: ClusterHost[] };
    assert.equal(body.shared, false);
    assert.equal(body.hosts.length, 1);
    assert.equal(body.hosts[0]!.hostId, body.hostId);
    assert.equal(body.hosts[0]!.status, 'live');
    const events = await h.app.inject('/api/events');
    assert.equal(events.statusCode, 501);
    assert.equal(events.json().error.code, 'NOT_ENABLED');
    const ps = spawnSync(process.execPath, [MM, '--db', join(h.dir, 'registry.db'), 'ps', '--all'], { encoding: 'utf8' });
    assert.equal(ps.status, 1);
    assert.match(ps.stderr, /^mm: the sqlite registry is not shared by servers: .* \[NOT_ENABLED\]\n$/);
  });

  it('refuses a heartbeat that is no duration', () => {
    const run = spawnSync(process.execPath, [MM, 'serve', '--port', '0', '--heartbeat', '5'], { encoding: 'utf8', env: { ...process.env, MM_HOME: join(tmpdir(), 'mm-no-home') } });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^mm: --heartbeat takes a duration of at least 50ms, e\.g\. 5s, not "5" \[INVALID_ARGUMENT\]\n$/);
  });
});
