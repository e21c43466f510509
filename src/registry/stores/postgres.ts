/**
 * PostgresStore: the registry in PostgreSQL (node-postgres), shared by a team's hosts.
 *
 * One row per model holds its current record (`data`, json as written) beside the columns filters
 * read, which SQL derives from that record on every write (tags and I/O types as arrays with GIN
 * indexes, a tsvector of field-marked words for search); `model_versions` keeps every version.
 * Each write is one statement, so it is whole or absent; an update names the version it read, so
 * a concurrent write is a VERSION_CONFLICT (Registry reads again and retries), never lost.
 * Each committed write is NOTIFYed (see #notify), and `watch` delivers it to other servers.
 * The servers' API keys live here too (`apiKeys`, see postgres-keys.ts), told on the same channel.
 * Search reads the best matches off the tsvector's GIN index, scored and ordered by the rules of
 * search.ts (see postgres-search.ts), so every store answers alike.
 */
import { ModelManagerError } from '../../errors.js';
import type { ClusterStore } from '../../cluster/types.js';
import type { ApiKeyStore } from '../api-key-records.js';
import type { ModelFilter } from '../query.js';
import { searchTerms, type SearchHit } from '../search.js';
import type { ModelMetadata } from '../schema.js';
import { PostgresCluster } from './postgres-cluster.js';
import { PostgresPool, parsePostgresUrl, sqlState } from './postgres-connection.js';
import { PostgresKeys } from './postgres-keys.js';
import { PostgresListener, type ChannelNotice } from './postgres-listener.js';
import { DERIVED_COLUMNS, channelOf, migrate, quoteIdent } from './postgres-schema.js';
import { bestMatches, searchVector, type RunSearchQuery, type SearchRow } from './postgres-search.js';
import { STATS_SQL, statsOf, type StatsGroup } from './postgres-stats.js';
import { SORT_COLUMNS, scalarClauses } from './sql-query.js';
import {
  versionConflict, type RegistryChange, type RegistryStats, type RegistryStore, type StoredModel, type VersionInfo,
} from './store.js';

/** Ids a change notification names at most (a NOTIFY payload stops at 8000 bytes; ids take up to 256 characters). */
const NOTIFIED_IDS = 20;

export interface PostgresStoreOptions {
  /** Most connections the store opens at once. Defaults to 10. */
  maxConnections?: number;
}

const COLUMNS = Object.keys(DERIVED_COLUMNS).join(', ');
const EXPRESSIONS = Object.values(DERIVED_COLUMNS).join(', ');
const ASSIGNMENTS = Object.entries(DERIVED_COLUMNS).map(([column, expression]) => `${column} = ${expression}`).join(', ');

type DataRow = { data: ModelMetadata };

/** What a write sends of a model: the record as JSON text, its search vector, its architecture lower-cased. */
function inputOf(model: ModelMetadata): [d: string, s: string, a: string] {
  return [JSON.stringify(model), searchVector(model), model.architecture.toLowerCase()];
}

/** The input row of one model sent as $2, $3, $4 (see inputOf): the record kept as written (`d`), and as jsonb for DERIVED_COLUMNS (`j`). */
const ONE_INPUT = `SELECT $2::text::json AS d, $2::text::jsonb AS j, $3::tsvector AS s, $4::text AS a`;

export class PostgresStore implements RegistryStore {
  readonly kind = 'postgres' as const;
  /** The URL without its password. */
  readonly location: string;
  /** Hosts and what each has loaded, in the same database. */
  readonly cluster: ClusterStore;
  /** The API keys every server on this registry accepts. */
  readonly apiKeys: ApiKeyStore;
  readonly #pool: PostgresPool;
  readonly #s: string;
  readonly #channel: string;
  #listener: PostgresListener | undefined;
  #closed = false;

  private constructor(pool: PostgresPool) {
    this.#pool = pool;
    this.location = pool.target.display;
    this.#s = quoteIdent(pool.target.schema);
    this.#channel = channelOf(pool.target.schema);
    this.cluster = new PostgresCluster(pool, this.#s);
    this.apiKeys = new PostgresKeys(pool, this.#s, this.#channel, (listener) => this.#listen(listener));
  }

  /**
   * Opens the registry at a `postgres://` URL (`?schema=` names its schema, default `model_manager`),
   * creating or migrating its schema.
   * @throws ModelManagerError INVALID_CONFIG (bad URL), STORE_FOREIGN, STORE_TOO_NEW (left untouched), STORE_IO (unreachable)
   */
  static async open(url: string, { maxConnections }: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const target = parsePostgresUrl(url);
    const pool = new PostgresPool(target, { max: maxConnections });
    try {
      await pool.withClient('opening the registry', (client) => migrate(client, target.schema, target.display));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresStore(pool);
  }

  #query<R extends Record<string, unknown>>(what: string, sql: string, values: unknown[] = [], idempotent = false) {
    if (this.#closed) return Promise.reject(new ModelManagerError('STORE_IO', `the PostgreSQL registry ${this.location} is closed`));
    return this.#pool.query<R>(what, sql, values, { idempotent });
  }

  /**
   * Tells listening servers of a committed write. NOTIFY in the write's own transaction would hold a
   * lock every notifying commit in the cluster takes, through that commit's WAL flush: writers would
   * commit one fsync at a time, whatever their number. Sent after the commit, in a transaction of
   * its own that does not wait for the flush, it holds that lock for microseconds. A notification
   * lost to a failure here only delays what other servers' pages show until they read again.
   */
  async #notify(op: RegistryChange['op'], modelIds: readonly string[]): Promise<void> {
    const payload = JSON.stringify({ op, count: modelIds.length, modelIds: modelIds.slice(0, NOTIFIED_IDS) });
    await this.#pool.query('notifying a change', `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`, [this.#channel, payload])
      .catch(() => undefined);
  }

  async insert(models: readonly ModelMetadata[], change: string): Promise<VersionInfo[]> {
    if (models.length === 0) return [];
    const now = new Date().toISOString();
    const infos = models.map((m) => ({ modelId: m.modelId, version: 1, createdAt: m.updatedAt ?? now, change }));
    // Ids in order, so two batches that share ids lock them in the same order (no deadlock).
    const order = models.map((_, i) => i).sort((x, y) => (models[x]!.modelId < models[y]!.modelId ? -1 : 1));
    const rows = order.map((i) => [...inputOf(models[i]!), infos[i]!.createdAt]);
    const column = (k: number) => rows.map((r) => r[k]);
    try {
      await this.#query('adding models', `WITH input AS (
          SELECT d, d::jsonb AS j, s::tsvector AS s, a, c FROM unnest($1::json[], $2::text[], $3::text[], $4::text[]) AS u(d, s, a, c)),
        added AS (INSERT INTO ${this.#s}.models (model_id, version, ${COLUMNS}, search, data)
          SELECT j->>'modelId', 1, ${EXPRESSIONS}, s, d FROM input)
        INSERT INTO ${this.#s}.model_versions (model_id, version, created_at, change, data) SELECT j->>'modelId', 1, c, $5, d FROM input`,
      [column(0), column(1), column(2), column(3), change]);
    } catch (error) {
      const cause = error instanceof ModelManagerError ? error.cause : error;
      if (sqlState(cause) !== '23505') throw error;
      const modelId = /\(model_id\)=\((.*)\) already exists/.exec(String((cause as { detail?: unknown }).detail))?.[1] ?? models[0]!.modelId;
      throw new ModelManagerError('MODEL_EXISTS', `model "${modelId}" is already registered; use update, or remove it first`, { details: { modelId }, cause });
    }
    await this.#notify('insert', models.map((m) => m.modelId));
    return infos;
  }

  async update(model: ModelMetadata, change: string, expectedVersion?: number): Promise<VersionInfo> {
    const createdAt = model.updatedAt ?? new Date().toISOString();
    const { rows } = await this.#query<{ version: number }>('updating a model', `WITH input AS (${ONE_INPUT}),
        up AS (UPDATE ${this.#s}.models m SET version = m.version + 1, ${ASSIGNMENTS}, search = input.s, data = input.d
          FROM input WHERE m.model_id = $1 AND ($5::integer IS NULL OR m.version = $5) RETURNING m.version)
      INSERT INTO ${this.#s}.model_versions (model_id, version, created_at, change, data)
        SELECT $1, up.version, $6, $7, input.d FROM up, input RETURNING version`,
    [model.modelId, ...inputOf(model), expectedVersion ?? null, createdAt, change]);
    if (!rows[0]) throw await this.#refused(model.modelId, expectedVersion);
    await this.#notify('update', [model.modelId]);
    return { modelId: model.modelId, version: rows[0].version, createdAt, change };
  }

  async replaceCurrent(model: ModelMetadata, expectedVersion?: number): Promise<VersionInfo> {
    const { rows } = await this.#query<{ version: number; created_at: string; change: string }>('recording a model', `WITH input AS (${ONE_INPUT}),
        up AS (UPDATE ${this.#s}.models m SET ${ASSIGNMENTS}, search = input.s, data = input.d
          FROM input WHERE m.model_id = $1 AND ($5::integer IS NULL OR m.version = $5) RETURNING m.version)
      UPDATE ${this.#s}.model_versions v SET data = input.d FROM up, input WHERE v.model_id = $1 AND v.version = up.version
        RETURNING v.version, v.created_at, v.change`,
    [model.modelId, ...inputOf(model), expectedVersion ?? null]);
    const row = rows[0];
    if (!row) throw await this.#refused(model.modelId, expectedVersion);
    await this.#notify('update', [model.modelId]);
    return { modelId: model.modelId, version: row.version, createdAt: row.created_at, change: row.change };
  }

  /** Why a conditional write touched no row: the model is gone, or another writer moved it on. */
  async #refused(modelId: string, expectedVersion: number | undefined): Promise<ModelManagerError> {
    const { rows } = await this.#query<{ version: number }>('reading a model', `SELECT version FROM ${this.#s}.models WHERE model_id = $1`, [modelId], true);
    const version = rows[0]?.version;
    if (version === undefined) return new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered`, { details: { modelId } });
    return versionConflict(modelId, version, expectedVersion ?? version);
  }

  async remove(modelId: string): Promise<boolean> {
    const { rows } = await this.#query<{ n: number }>('removing a model', `WITH gone AS (DELETE FROM ${this.#s}.models WHERE model_id = $1 RETURNING model_id),
        versions AS (DELETE FROM ${this.#s}.model_versions WHERE model_id IN (SELECT model_id FROM gone)),
        cached AS (DELETE FROM ${this.#s}.model_cache WHERE model_id IN (SELECT model_id FROM gone))
      SELECT count(*)::integer AS n FROM gone`, [modelId]);
    const removed = (rows[0]?.n ?? 0) > 0;
    if (removed) await this.#notify('delete', [modelId]);
    return removed;
  }

  async get(modelId: string): Promise<StoredModel | undefined> {
    const { rows } = await this.#query<{ version: number; data: ModelMetadata }>('reading a model',
      `SELECT version, data FROM ${this.#s}.models WHERE model_id = $1`, [modelId], true);
    return rows[0] && { model: rows[0].data, version: rows[0].version };
  }

  #where(f: ModelFilter): { sql: string; values: unknown[] } {
    const { clauses, values } = scalarClauses(f);
    const all: unknown[] = [...values];
    const add = (clause: string, value: unknown) => {
      clauses.push(clause);
      all.push(value);
    };
    if (f.tags) add('tags @> ?::text[]', f.tags);
    if (Array.isArray(f.inputType)) add('input_types && ?::text[]', f.inputType);
    if (Array.isArray(f.outputType)) add('output_types && ?::text[]', f.outputType);
    if (f.visibleToGroups) add(`(access_level = 'public' OR (access_level = 'restricted' AND access_groups && ?::text[]))`, f.visibleToGroups);
    if (f.hiddenFromGroups) add(`(access_level <> 'public' AND NOT (access_level = 'restricted' AND access_groups && ?::text[]))`, f.hiddenFromGroups);
    let n = 0;
    const sql = clauses.length ? `WHERE ${clauses.join(' AND ').replace(/\?/g, () => `$${++n}`)}` : '';
    return { sql, values: all };
  }

  /** The query of a list: the records passing the filter, sorted and paged. */
  #listQuery(f: ModelFilter): { sql: string; values: unknown[] } {
    const { sql, values } = this.#where(f);
    const column = SORT_COLUMNS[f.sort ?? 'modelId'];
    const dir = f.order === 'desc' ? 'DESC' : 'ASC';
    const order = column === 'model_id' ? `model_id ${dir}` : `${column} ${dir} NULLS LAST, model_id ASC`;
    const page = [`OFFSET ${Math.max(0, Math.floor(f.offset ?? 0))}`];
    if (f.limit !== undefined) page.unshift(`LIMIT ${Math.max(0, Math.floor(f.limit))}`);
    return { sql: `SELECT data FROM ${this.#s}.models ${sql} ORDER BY ${order} ${page.join(' ')}`, values };
  }

  async list(f: ModelFilter): Promise<ModelMetadata[]> {
    const { sql, values } = this.#listQuery(f);
    const { rows } = await this.#query<DataRow>('listing models', sql, values, true);
    return rows.map((r) => r.data);
  }

  async count(f: ModelFilter): Promise<number> {
    const { sql, values } = this.#where(f);
    const { rows } = await this.#query<{ n: number }>('counting models', `SELECT count(*)::integer AS n FROM ${this.#s}.models ${sql}`, values, true);
    return rows[0]?.n ?? 0;
  }

  /** The best `limit` matches of `text`, each query run by `run` (the store's, or one that explains it too). */
  #bestMatches(text: string, limit: number, run: RunSearchQuery) {
    return bestMatches(run, `${this.#s}.models`, searchTerms(text), limit);
  }

  async search(text: string, limit: number): Promise<SearchHit[]> {
    const run: RunSearchQuery = async (sql, values) => (await this.#query<SearchRow>('searching models', sql, values, true)).rows;
    return (await this.#bestMatches(text, limit, run)).map(({ model, score }) => ({ model, score }));
  }

  async stats(f: ModelFilter): Promise<RegistryStats> {
    const { sql, values } = this.#where(f);
    const versions = sql ? `SELECT count(*)::integer AS n FROM ${this.#s}.model_versions WHERE model_id IN (SELECT model_id FROM ${this.#s}.models ${sql})`
      : `SELECT count(*)::integer AS n FROM ${this.#s}.model_versions`;
    // One statement: both counts see the same registry.
    const { rows } = await this.#query<StatsGroup & { versions: number }>('counting models',
      `SELECT g.*, (${versions}) AS versions FROM (${STATS_SQL(this.#s, sql)}) g`, values, true);
    return statsOf(rows, rows[0]?.versions ?? 0);
  }

  async listVersions(modelId: string): Promise<VersionInfo[]> {
    const { rows } = await this.#query<{ version: number; created_at: string; change: string }>('reading versions',
      `SELECT version, created_at, change FROM ${this.#s}.model_versions WHERE model_id = $1 ORDER BY version`, [modelId], true);
    return rows.map((r) => ({ modelId, version: r.version, createdAt: r.created_at, change: r.change }));
  }

  async getVersion(modelId: string, version: number): Promise<ModelMetadata | undefined> {
    const { rows } = await this.#query<DataRow>('reading a version',
      `SELECT data FROM ${this.#s}.model_versions WHERE model_id = $1 AND version = $2`, [modelId, version], true);
    return rows[0]?.data;
  }

  async cacheGet(modelId: string, key: string): Promise<unknown> {
    const { rows } = await this.#query<{ value: unknown; expires_at: string | null }>('reading the cache',
      `SELECT value, expires_at FROM ${this.#s}.model_cache WHERE model_id = $1 AND key = $2`, [modelId, key], true);
    const row = rows[0];
    if (!row || (row.expires_at !== null && Number(row.expires_at) <= Date.now())) return undefined;
    return row.value;
  }

  async cacheSet(modelId: string, key: string, value: unknown, ttlMs?: number): Promise<void> {
    await this.#query('writing the cache', `INSERT INTO ${this.#s}.model_cache (model_id, key, value, expires_at) VALUES ($1, $2, $3::jsonb, $4)
      ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    [modelId, key, JSON.stringify(value) ?? 'null', ttlMs === undefined ? null : Date.now() + ttlMs]);
  }

  async cacheClear(modelId?: string): Promise<number> {
    const { rowCount } = modelId === undefined
      ? await this.#query('clearing the cache', `DELETE FROM ${this.#s}.model_cache`)
      : await this.#query('clearing the cache', `DELETE FROM ${this.#s}.model_cache WHERE model_id = $1`, [modelId]);
    return rowCount ?? 0;
  }

  /**
   * Calls `listener` with every change any client makes to the registry (LISTEN/NOTIFY), and with
   * `{op: 'resync'}` after the connection was lost and is back (changes meanwhile were missed).
   * @returns what stops it
   */
  watch(listener: (change: RegistryChange) => void): () => void {
    return this.#listen((notice) => {
      if (notice.op !== 'keys') listener(notice);
    });
  }

  /** Subscribes to the registry's channel, over one LISTEN connection for the models and the keys. */
  #listen(listener: (notice: ChannelNotice) => void): () => void {
    this.#listener ??= new PostgresListener(this.#pool.clientConfig, this.#channel);
    return this.#listener.subscribe(listener);
  }

  /**
   * `EXPLAIN (ANALYZE, BUFFERS)` of what a (normalised) filter, or each query of a search (top 20), runs,
   * for the docs and for people tuning indexes.
   */
  async explain(query: { filter: ModelFilter } | { search: string }): Promise<string[]> {
    const plan = async (sql: string, values: unknown[]) =>
      (await this.#query<{ 'QUERY PLAN': string }>('explaining a query', `EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values, true)).rows.map((r) => r['QUERY PLAN']);
    if ('filter' in query) {
      const { sql, values } = this.#listQuery(query.filter);
      return plan(sql, values);
    }
    const lines: string[] = [];
    await this.#bestMatches(query.search, 20, async (sql, values) => {
      lines.push(`-- ${String(values[0])}`, ...(await plan(sql, values)));
      return (await this.#query<SearchRow>('searching models', sql, values, true)).rows;
    });
    return lines;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener?.close();
    await this.#pool.end();
  }
}
