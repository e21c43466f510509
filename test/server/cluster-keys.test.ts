/**
 * API keys kept in a PostgreSQL registry, as a team with several hosts uses them: a key added with
 * `mm serve keys add` on one host works on servers already running elsewhere, a removed one stops
 * working there without a restart, the table never holds a key, and a server that lost its LISTEN
 * connection reads the keys again when it is back. And the migration that adds the table.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { MIGRATIONS } from '../../src/registry/stores/postgres-schema.js';
import { validateModel } from '../../src/registry/validate.js';
import { ApiKeys, Registry, createApiKey } from '../../src/index.js';
import { postgresSkip, schemaOf, schemaUrl, sql } from '../helpers/postgres.js';
import { startMmServe, type MmServer } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';

const skip = await postgresSkip();
const MM = join(process.cwd(), 'bin', 'mm.js');

/** A host of its own: its own MM_HOME (so no keys file is shared), the shared registry. */
function hostEnv(home: string, host: string, db: string): NodeJS.ProcessEnv {
  return { ...process.env, MM_HOME: join(home, host), MM_HOST_ID: host, MM_DB: db, MM_STORE: '', MM_API_KEYS_FILE: '' };
}

function mm(env: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync(process.execPath, [MM, ...args], { env, encoding: 'utf8' });
}

/** Starts `mm serve --auth` and returns its URL once it listens. */
function serve(env: NodeJS.ProcessEnv): Promise<MmServer> {
  return startMmServe(['--auth', '--port', '0', '--no-discovery', '--no-runtime', '--model-root', join(env.MM_HOME!, 'models')], env);
}

const statusWith = async (url: string, key: string) => (await fetch(`${url}/api/models`, { headers: { authorization: `Bearer ${key}` } })).status;

/** Asks until `url` answers `status` to `key`: waits for a change another process makes, with no deadline of its own. */
async function untilStatus(url: string, key: string, status: number): Promise<void> {
  while ((await statusWith(url, key)) !== status) await sleep(50);
}

describe('API keys in a PostgreSQL registry', { skip }, () => {
  it('a key added or removed on one host counts at once on the servers of the others; the table holds only hashes', { timeout: 120_000 }, async () => {
    using home = tempDir();
    const db = schemaUrl('shared-keys');
    const schema = schemaOf(db);
    const admin = hostEnv(home.path, 'laptop', db);

    // No key yet: a server asked for keys refuses to start rather than run open or lock everyone out.
    const refused = mm(hostEnv(home.path, 'host-a', db), 'serve', '--auth', '--port', '0', '--no-discovery', '--no-runtime');
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /^mm: the registry .* holds no API keys.*\[INVALID_CONFIG\]$/m);

    const ada = mm(admin, '--json', 'serve', 'keys', 'add', 'ada', '--role', 'admin');
    assert.equal(ada.status, 0, ada.stderr);
    const adaKey = (JSON.parse(ada.stdout) as { key: string }).key;

    const servers = [await serve(hostEnv(home.path, 'host-a', db)), await serve(hostEnv(home.path, 'host-b', db))];
    try {
      for (const s of servers) assert.equal(await statusWith(s.url, adaKey), 200);

      // Added from a third host after both servers started: both accept it.
      const bob = mm(admin, '--json', 'serve', 'keys', 'add', 'bob', '--role', 'reader', '--group', 'vision', '--rate-limit', '60');
      assert.equal(bob.status, 0, bob.stderr);
      const added = JSON.parse(bob.stdout) as { key: string; id: string; db: string; file?: string };
      assert.equal(added.file, undefined, 'not written to a keys file');
      assert.match(added.db, new RegExp(`schema=${schema}`));
      for (const s of servers) await untilStatus(s.url, added.key, 200);
      const wrong = `${added.key.slice(0, -1)}${added.key.endsWith('x') ? 'y' : 'x'}`;
      assert.equal(await statusWith(servers[0]!.url, wrong), 401, 'a wrong secret with a known id');

      // The table holds the hash of each key, never the key or its secret; `keys list` shows neither.
      const rows = await sql<{ id: string; user_name: string; role: string; groups: string[]; hash: string; rate_limit_per_minute: number | null }>(
        `SELECT * FROM "${schema}".api_keys ORDER BY user_name`);
      assert.deepEqual(rows.map((r) => [r.user_name, r.role, r.groups, r.rate_limit_per_minute]), [['ada', 'admin', [], null], ['bob', 'reader', ['vision'], 60]]);
      assert.equal(rows[1]!.hash, `sha256:${createHash('sha256').update(added.key).digest('hex')}`);
      const secret = added.key.split('_').slice(2).join('_');
      assert.ok(!JSON.stringify(rows).includes(secret), 'no secret in the table');
      const listed = mm(admin, '--json', 'serve', 'keys', 'list');
      assert.equal(listed.status, 0, listed.stderr);
      assert.deepEqual((JSON.parse(listed.stdout) as { keys: Record<string, unknown>[] }).keys.map((k) => [k.user, k.id, k.role, k.groups, 'hash' in k]),
        [['ada', rows[0]!.id, 'admin', [], false], ['bob', added.id, 'reader', ['vision'], false]]);
      assert.ok(!listed.stdout.includes('sha256:') && !listed.stdout.includes(secret));

      // Revoked from the third host: refused on both servers, neither restarted; the other key still works.
      const removed = mm(admin, '--json', 'serve', 'keys', 'remove', 'bob');
      assert.equal(removed.status, 0, removed.stderr);
      assert.deepEqual(JSON.parse(removed.stdout), { removed: 1 });
      for (const s of servers) await untilStatus(s.url, added.key, 401);
      for (const s of servers) assert.equal(await statusWith(s.url, adaKey), 200);
      const again = mm(admin, 'serve', 'keys', 'remove', 'bob');
      assert.match(again.stderr, /^mm: no key with id or user "bob".*\[NOT_FOUND\]$/m);

      // A keys file named explicitly is still used as before, on the same postgres registry.
      const file = join(home.path, 'keys.json');
      const own = mm(admin, '--json', 'serve', 'keys', 'add', 'carl', '--keys-file', file);
      assert.equal(own.status, 0, own.stderr);
      assert.equal((JSON.parse(own.stdout) as { file: string }).file, file);
      assert.deepEqual((await sql<{ n: number }>(`SELECT count(*)::integer AS n FROM "${schema}".api_keys`))[0]!.n, 1, 'only ada\'s key is in the table');
    } finally {
      for (const s of servers) s.child.kill('SIGTERM');
    }
  });

  it('reads the keys again when its LISTEN connection comes back, so a change it missed still counts', { timeout: 60_000 }, async () => {
    const db = schemaUrl('keys-resync');
    const schema = schemaOf(db);
    await using registry = await Registry.open({ db });
    const store = registry.store.apiKeys!;
    const first = createApiKey({ user: 'ada', role: 'admin' });
    await store.add(first.record);
    const errors: unknown[] = [];
    const keys = await ApiKeys.follow(store, { onError: (error) => errors.push(error) });
    try {
      assert.equal(keys.authenticate(first.key)?.user, 'ada');
      // Heard through NOTIFY from another client of the registry.
      const second = createApiKey({ user: 'bob' });
      await using other = await Registry.open({ db });
      await other.store.apiKeys!.add(second.record);
      while (!keys.authenticate(second.key)) await sleep(20);

      // Written with no NOTIFY (as if it was sent while this server's connection was down): only a resync finds it.
      const missed = createApiKey({ user: 'cleo', role: 'writer' });
      const r = missed.record;
      await sql(`INSERT INTO "${schema}".api_keys (id, user_name, role, groups, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [r.id, r.user, r.role, r.groups, r.hash, r.createdAt]);
      await sql(`DELETE FROM "${schema}".api_keys WHERE user_name = 'bob'`);
      // A row edited by hand into a record no keys file could hold (no user): refused, and told.
      const bad = createApiKey({ user: 'dan', role: 'admin' });
      await sql(`INSERT INTO "${schema}".api_keys (id, user_name, role, groups, hash, created_at) VALUES ($1, '', 'admin', '{}', $2, $3)`, [bad.record.id, bad.record.hash, bad.record.createdAt]);
      const ended = await sql<{ ok: boolean }>(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [schema]);
      assert.equal(ended.length, 1, 'the one LISTEN connection of the first registry');
      while (!keys.authenticate(missed.key)) await sleep(20);
      assert.equal(keys.authenticate(missed.key)?.role, 'writer');
      assert.equal(keys.authenticate(second.key), undefined, 'and a key removed meanwhile is refused');
      assert.equal(keys.authenticate(bad.key), undefined);
      // Told once per read that met it (a read already under way may have met it too).
      assert.ok(errors.length > 0);
      for (const e of errors) {
        assert.deepEqual([(e as { code?: string }).code, (e as Error).message.includes(bad.record.id), (e as Error).message.includes(bad.record.hash)], ['INVALID_CONFIG', true, false]);
      }
    } finally {
      keys.close();
    }
  });

  it('migrates a registry of the schema before keys: its models stay, and keys can be kept', async () => {
    const db = schemaUrl('before-keys');
    const schema = schemaOf(db);
    const before = MIGRATIONS.filter((m) => m.version < 5);
    await sql(`CREATE SCHEMA "${schema}";
      CREATE TABLE "${schema}".mm_meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE "${schema}".mm_schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO "${schema}".mm_meta VALUES ('app', 'model-manager');
      ${before.map((m) => m.sql(`"${schema}"`)).join('\n')}
      INSERT INTO "${schema}".mm_schema_migrations (version, description) VALUES ${before.map((m) => `(${m.version}, 'old')`).join(', ')};`);
    // A registry as schema version 4 left it: a model, and no api_keys table.
    const record = JSON.stringify(validateModel({ modelId: 'team/kept', modelType: 'embedding_model' }));
    await sql(`INSERT INTO "${schema}".models (model_id, version, model_name, model_type, architecture, arch_label, source, tags, input_types, output_types, search, data)
      VALUES ('team/kept', 1, 'kept', 'embedding_model', '', '', 'manual', '{}', '{}', '{}', '''1kept''', $1::json)`, [record]);

    await using registry = await Registry.open({ db });
    assert.deepEqual((await sql<{ version: number }>(`SELECT version FROM "${schema}".mm_schema_migrations ORDER BY 1`)).map((v) => v.version),
      MIGRATIONS.map((m) => m.version));
    assert.equal((await registry.getModel('team/kept'))?.modelType, 'embedding_model');
    const minted = createApiKey({ user: 'ada', role: 'admin', groups: ['ops'], rateLimitPerMinute: 30 });
    await registry.store.apiKeys!.add(minted.record);
    assert.deepEqual(await registry.store.apiKeys!.list(), [minted.record]);
  });
});
