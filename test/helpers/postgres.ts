/**
 * The PostgreSQL server the tests use: `MM_TEST_PG_URL` (`.ci/run` starts a throwaway cluster and
 * sets it). Each store gets a schema of its own, dropped when the test file ends.
 *
 * Under CI=true a missing or unreachable server fails the file; elsewhere its tests skip with one line.
 */
import { createHash } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { parseBool } from '../../src/config.js';

const URL_VAR = 'MM_TEST_PG_URL';

/** The server's URL (without `schema`), or undefined. */
export const PG_URL = process.env[URL_VAR]?.trim() || undefined;

/** Why the PostgreSQL tests cannot run here, or false when they can. @throws under CI=true, where they must run */
export async function postgresSkip(): Promise<string | false> {
  let reason: string | undefined;
  if (!PG_URL) reason = `${URL_VAR} is not set: PostgreSQL tests skipped (bash .ci/run starts a server and sets it)`;
  else {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (error) {
      reason = `no PostgreSQL server answers at ${URL_VAR} (${(error as Error).message}): PostgreSQL tests skipped`;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (reason === undefined) return false;
  if (parseBool(process.env.CI)) throw new Error(`CI=true, but ${reason.replace(/: PostgreSQL tests skipped.*$/, '')}: the PostgreSQL tests must run in CI`);
  return reason;
}

const created = new Set<string>();
// Registered as the file loads, so it runs once every test of the file is done.
after(dropSchemas);

/**
 * The URL of a registry in a schema of its own: the same `key` gives the same schema, so a store
 * can be reopened. Its connections carry the schema's name as application_name, so a test can
 * find (and end) them among those of other test files.
 */
export function schemaUrl(key: string): string {
  const schema = `mmt_${createHash('sha1').update(`${process.pid} ${key}`).digest('hex').slice(0, 20)}`;
  created.add(schema);
  const url = PG_URL!;
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}&application_name=${schema}`;
}

/** The schema a `schemaUrl` names. */
export function schemaOf(url: string): string {
  return /[?&]schema=([^&]+)/.exec(url)![1]!;
}

/** Runs SQL on the test server, outside any store. */
export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Every table of a schema with its rows (sorted), to prove nothing was touched. */
export async function schemaSnapshot(schema: string): Promise<Record<string, unknown[]>> {
  const tables = await sql<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables) out[name] = (await sql(`SELECT * FROM "${schema}"."${name}"`)).map((r) => JSON.stringify(r)).sort();
  return out;
}

/** Drops one schema a `schemaUrl` made, once its store is closed. */
export async function dropSchema(schema: string): Promise<void> {
  await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  created.delete(schema);
}

async function dropSchemas(): Promise<void> {
  if (created.size === 0 || !PG_URL) return;
  await sql(`DROP SCHEMA IF EXISTS ${[...created].map((s) => `"${s}"`).join(', ')} CASCADE`).catch(() => undefined);
}
