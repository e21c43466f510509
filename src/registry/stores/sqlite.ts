/**
 * SqliteStore: the default registry store (better-sqlite3, WAL).
 *
 * Filter fields live in narrow indexed columns; tags and I/O types in their own tables; the JSON
 * records only in model_versions (the current one is the row of the current version), so filters
 * scan small rows and read records only for the page they return. The search words of each
 * record (search.ts) are in an FTS5 index, from which `search` picks exactly the best matches
 * that rankSearch would (see sqlite-search.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ModelManagerError } from '../../errors.js';
import type { ModelFilter } from '../query.js';
import type { ModelMetadata } from '../schema.js';
import { searchTerms, type SearchHit } from '../search.js';
import { CURRENT_RECORD, accessValues, checkExistingFile, ftsValues, prepareDatabase, type Row } from './sqlite-schema.js';
import { bestMatches } from './sqlite-search.js';
import { SORT_COLUMNS, scalarClauses } from './sql-query.js';
import { removeStaleTemps } from '../../atomic-file.js';
import { createWhole } from './store-file.js';
import { versionConflict, type CountMap, type RegistryStats, type RegistryStore, type StoredModel, type VersionInfo } from './store.js';

/** Makes a new registry file at `path` (under a temporary name, see createWhole). */
function buildNew(path: string): void {
  const db = new Database(path);
  try {
    prepareDatabase(db);
  } finally {
    db.close();
  }
}

export class SqliteStore implements RegistryStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #closed = false;

  private constructor(readonly location: string, db: Database.Database) {
    this.#db = db;
  }

  /**
   * Opens the registry database at `path`, creating it when there is none.
   * @throws ModelManagerError STORE_CORRUPT or STORE_FOREIGN (the file is left untouched), STORE_IO
   */
  static async open(path: string): Promise<SqliteStore> {
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:') {
        mkdirSync(dirname(path), { recursive: true });
        // A new file is made whole under another name; if another process made one meanwhile, that one is checked.
        if (!checkExistingFile(path) && !(await createWhole(path, buildNew))) checkExistingFile(path);
        await removeStaleTemps(path);
      }
      db = new Database(path);
      db.pragma('busy_timeout = 30000');
      // Every commit is on disk before it returns, power loss included: one fsync of the WAL
      // (~0.3 ms here), which a registry's writes (edits, or scans in batches of 500) barely feel.
      db.pragma('synchronous = FULL');
      // 64 MB of page cache (the default is 2 MB): filters over 100k models then stay in memory.
      db.pragma('cache_size = -65536');
      // A WAL checkpoint fsyncs the WAL and the database. At SQLite's default (every 1,000 pages,
      // ~4 MB) a scan adding 10,000 models (~50 MB of pages) checkpointed a dozen times: 0.3-0.6 s
      // of its ~1.6 s of registry writes on our 2-core machine. Every 16,384 pages (64 MiB, the
      // page cache's size) it checkpoints about once; with synchronous=FULL that loses nothing.
      db.pragma('wal_autocheckpoint = 16384');
      prepareDatabase(db);
      return new SqliteStore(path, db);
    } catch (error) {
      db?.close();
      if (error instanceof ModelManagerError) throw error;
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
        throw new ModelManagerError('STORE_CORRUPT', `${path} is a damaged SQLite registry (${(error as Error).message}); restore it from a backup or point --db elsewhere.`, {
          details: { path },
          cause: error,
        });
      }
      throw new ModelManagerError('STORE_IO', `cannot open the SQLite registry at ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
    }
  }

  /** A prepared statement, prepared once per SQL text (preparing costs more than most of our queries). */
  #sql(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Writes the model's row and index entries: a new row, or over `rowid` (a new version unless `sameVersion`). */
  #index(model: ModelMetadata, rowid?: number, sameVersion = false): number {
    const cols = [
      model.modelName, model.modelType, model.architecture.toLowerCase(), model.attentionType ?? null, model.format ?? null,
      model.source, model.parameterCount ?? null, model.contextLength ?? null, model.memoryEstimate?.totalBytes ?? null,
      model.createdAt ?? null, model.updatedAt ?? null, model.architecture, model.localPath ?? null, ...accessValues(model),
    ];
    if (rowid === undefined) {
      rowid = Number(this.#sql(`INSERT INTO models (version, model_name, model_type, architecture, attention_type, format, source,
        parameter_count, context_length, total_bytes, created_at, updated_at, arch_label, local_path, access_level, access_groups, model_id)
        VALUES (1, ?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
        .run(...cols, model.modelId).lastInsertRowid);
    } else {
      this.#sql(`UPDATE models SET version = version + ${sameVersion ? 0 : 1}, model_name = ?, model_type = ?, architecture = ?, attention_type = ?, format = ?,
        source = ?, parameter_count = ?, context_length = ?, total_bytes = ?, created_at = ?, updated_at = ?, arch_label = ?, local_path = ?,
        access_level = ?, access_groups = ? WHERE rowid = ?`)
        .run(...cols, rowid);
      this.#unindex(model.modelId, rowid);
    }
    const tag = this.#sql(`INSERT OR IGNORE INTO model_tags (tag, model_id) VALUES (?, ?)`);
    for (const t of model.tags) tag.run(t, model.modelId);
    const io = this.#sql(`INSERT OR IGNORE INTO model_io (direction, data_type, model_id) VALUES (?, ?, ?)`);
    for (const spec of model.inputs) io.run('in', spec.dataType, model.modelId);
    for (const spec of model.outputs) io.run('out', spec.dataType, model.modelId);
    this.#sql(`INSERT INTO models_fts (rowid, model_id, names, labels, description) VALUES (?, ?, ?, ?, ?)`).run(rowid, ...ftsValues(model));
    return rowid;
  }

  #unindex(modelId: string, rowid: number): void {
    this.#sql(`DELETE FROM model_tags WHERE model_id = ?`).run(modelId);
    this.#sql(`DELETE FROM model_io WHERE model_id = ?`).run(modelId);
    this.#sql(`DELETE FROM models_fts WHERE rowid = ?`).run(rowid);
  }

  #addVersion(model: ModelMetadata, version: number, change: string): VersionInfo {
    const createdAt = model.updatedAt ?? new Date().toISOString();
    this.#sql(`INSERT INTO model_versions (model_id, version, created_at, change, data) VALUES (?, ?, ?, ?, ?)`)
      .run(model.modelId, version, createdAt, change, JSON.stringify(model));
    return { modelId: model.modelId, version, createdAt, change };
  }

  async insert(models: readonly ModelMetadata[], change: string): Promise<VersionInfo[]> {
    const exists = this.#sql(`SELECT 1 FROM models WHERE model_id = ?`).pluck();
    return this.#db.transaction(() => {
      return models.map((model) => {
        if (exists.get(model.modelId)) {
          throw new ModelManagerError('MODEL_EXISTS', `model "${model.modelId}" is already registered; use update, or remove it first`, {
            details: { modelId: model.modelId },
          });
        }
        this.#index(model);
        return this.#addVersion(model, 1, change);
      });
    }).immediate();
  }

  async update(model: ModelMetadata, change: string, expectedVersion?: number): Promise<VersionInfo> {
    return this.#db.transaction(() => {
      const row = this.#current(model.modelId, expectedVersion);
      this.#index(model, row.rowid);
      return this.#addVersion(model, row.version + 1, change);
    }).immediate();
  }

  async replaceCurrent(model: ModelMetadata, expectedVersion?: number): Promise<VersionInfo> {
    return this.#db.transaction(() => {
      const row = this.#current(model.modelId, expectedVersion);
      this.#index(model, row.rowid, true);
      this.#sql(`UPDATE model_versions SET data = ? WHERE model_id = ? AND version = ?`).run(JSON.stringify(model), model.modelId, row.version);
      const info = this.#sql(`SELECT created_at AS createdAt, change FROM model_versions WHERE model_id = ? AND version = ?`).get(model.modelId, row.version) as
        { createdAt: string; change: string };
      return { modelId: model.modelId, version: row.version, ...info };
    }).immediate();
  }

  /** The stored row of a model, checked against the version the writer read. */
  #current(modelId: string, expectedVersion: number | undefined): { rowid: number; version: number } {
    const row = this.#sql(`SELECT rowid, version FROM models WHERE model_id = ?`).get(modelId) as { rowid: number; version: number } | undefined;
    if (!row) throw new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered`, { details: { modelId } });
    if (expectedVersion !== undefined && row.version !== expectedVersion) throw versionConflict(modelId, row.version, expectedVersion);
    return row;
  }

  async remove(modelId: string): Promise<boolean> {
    return this.#db.transaction(() => {
      const rowid = this.#db.prepare(`SELECT rowid FROM models WHERE model_id = ?`).pluck().get(modelId) as number | undefined;
      if (rowid === undefined) return false;
      this.#unindex(modelId, rowid);
      this.#db.prepare(`DELETE FROM models WHERE rowid = ?`).run(rowid);
      this.#db.prepare(`DELETE FROM model_versions WHERE model_id = ?`).run(modelId);
      this.#db.prepare(`DELETE FROM model_cache WHERE model_id = ?`).run(modelId);
      return true;
    }).immediate();
  }

  async get(modelId: string): Promise<StoredModel | undefined> {
    const row = this.#sql(`SELECT p.version, v.data FROM models p ${CURRENT_RECORD} WHERE p.model_id = ?`).get(modelId) as
      | { version: number; data: string }
      | undefined;
    return row && { model: JSON.parse(row.data) as ModelMetadata, version: row.version };
  }

  #where(f: ModelFilter): { sql: string; params: unknown[] } {
    const { clauses, values } = scalarClauses(f);
    const params: unknown[] = [...values];
    if (f.tags) {
      clauses.push(`model_id IN (SELECT model_id FROM model_tags WHERE tag IN (${f.tags.map(() => '?').join(',')})
        GROUP BY model_id HAVING count(*) = ?)`);
      params.push(...f.tags, new Set(f.tags).size);
    }
    for (const [direction, types] of [['in', f.inputType], ['out', f.outputType]] as const) {
      if (!Array.isArray(types)) continue;
      clauses.push(`model_id IN (SELECT model_id FROM model_io WHERE direction = ? AND data_type IN (${types.map(() => '?').join(',')}))`);
      params.push(direction, ...types);
    }
    const shared = (groups: readonly string[]) => `EXISTS (SELECT 1 FROM json_each(access_groups) WHERE value IN (${groups.map(() => '?').join(',')}))`;
    const visible = f.visibleToGroups;
    if (visible) {
      // The IN lets SQLite read the access index for both levels at once (twice as fast as an OR of two lookups).
      clauses.push(visible.length === 0 ? `access_level = 'public'` : `access_level IN ('public', 'restricted') AND (access_level = 'public' OR ${shared(visible)})`);
      params.push(...visible);
    }
    const hidden = f.hiddenFromGroups;
    if (hidden) {
      clauses.push(hidden.length === 0 ? `access_level != 'public'` : `access_level != 'public' AND NOT (access_level = 'restricted' AND ${shared(hidden)})`);
      params.push(...hidden);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  async list(f: ModelFilter): Promise<ModelMetadata[]> {
    const { sql, params } = this.#where(f);
    const column = SORT_COLUMNS[f.sort ?? 'modelId'];
    const dir = f.order === 'desc' ? 'DESC' : 'ASC';
    const order = (prefix: string) =>
      column === 'model_id' ? `${prefix}model_id ${dir}` : `${prefix}sort_key ${dir} NULLS LAST, ${prefix}model_id ASC`;
    // Page over the narrow rows first; only the page's records are read.
    const rows = this.#sql(`SELECT v.data FROM (SELECT model_id, version, ${column} AS sort_key FROM models ${sql}
      ORDER BY ${order('')} LIMIT ? OFFSET ?) p ${CURRENT_RECORD} ORDER BY ${order('p.')}`).all(...params, f.limit ?? -1, f.offset ?? 0) as Row[];
    return rows.map((r) => JSON.parse(r.data) as ModelMetadata);
  }

  async count(f: ModelFilter): Promise<number> {
    const { sql, params } = this.#where(f);
    return this.#sql(`SELECT count(*) FROM models ${sql}`).pluck().get(...params) as number;
  }

  async search(text: string, limit: number): Promise<SearchHit[]> {
    // One read transaction: every query of the search sees the same registry.
    return this.#db.transaction(() => {
      const best = bestMatches((sql) => this.#sql(sql), searchTerms(text), limit);
      if (best.length === 0) return [];
      const rows = this.#sql(`SELECT p.model_id AS modelId, v.data FROM models p ${CURRENT_RECORD}
        WHERE p.rowid IN (SELECT value FROM json_each(?))`).all(JSON.stringify(best.map((b) => b.rowid))) as (Row & { modelId: string })[];
      const records = new Map(rows.map((r) => [r.modelId, r.data]));
      return best.map((b) => ({ model: JSON.parse(records.get(b.modelId)!) as ModelMetadata, score: b.score }));
    })();
  }

  async stats(f: ModelFilter): Promise<RegistryStats> {
    const { sql, params } = this.#where(f);
    const and = sql ? `${sql} AND` : 'WHERE';
    const counts = (column: string, label = column): CountMap => {
      const rows = this.#sql(`SELECT ${label} AS k, count(*) AS n FROM models ${and} ${column} IS NOT NULL AND ${column} != '' GROUP BY k`)
        .all(...params) as { k: string; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.k, r.n]));
    };
    const one = (query: string) => this.#sql(query).pluck().get(...params) as number;
    // One read transaction: every count sees the same registry.
    return this.#db.transaction(() => ({
      totalModels: one(`SELECT count(*) FROM models ${sql}`),
      totalVersions: one(sql ? `SELECT count(*) FROM model_versions WHERE model_id IN (SELECT model_id FROM models ${sql})` : `SELECT count(*) FROM model_versions`),
      totalParameters: one(`SELECT coalesce(sum(parameter_count), 0) FROM models ${sql}`),
      byType: counts('model_type'),
      // architecture is stored lower-cased for filtering; reported as written.
      byArchitecture: counts('architecture', 'arch_label'),
      byAttentionType: counts('attention_type'),
      byFormat: counts('format'),
      bySource: counts('source'),
    }))();
  }

  async listVersions(modelId: string): Promise<VersionInfo[]> {
    return this.#db.prepare(`SELECT model_id AS modelId, version, created_at AS createdAt, change FROM model_versions
      WHERE model_id = ? ORDER BY version`).all(modelId) as VersionInfo[];
  }

  async getVersion(modelId: string, version: number): Promise<ModelMetadata | undefined> {
    const data = this.#db.prepare(`SELECT data FROM model_versions WHERE model_id = ? AND version = ?`).pluck().get(modelId, version) as
      | string
      | undefined;
    return data === undefined ? undefined : (JSON.parse(data) as ModelMetadata);
  }

  async cacheGet(modelId: string, key: string): Promise<unknown> {
    const row = this.#db.prepare(`SELECT value, expires_at AS expiresAt FROM model_cache WHERE model_id = ? AND key = ?`).get(modelId, key) as
      | { value: string; expiresAt: number | null }
      | undefined;
    if (!row || (row.expiresAt !== null && row.expiresAt <= Date.now())) return undefined;
    return JSON.parse(row.value);
  }

  async cacheSet(modelId: string, key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.#db.prepare(`INSERT OR REPLACE INTO model_cache (model_id, key, value, expires_at) VALUES (?, ?, ?, ?)`)
      .run(modelId, key, JSON.stringify(value), ttlMs === undefined ? null : Date.now() + ttlMs);
  }

  async cacheClear(modelId?: string): Promise<number> {
    const result = modelId === undefined
      ? this.#db.prepare(`DELETE FROM model_cache`).run()
      : this.#db.prepare(`DELETE FROM model_cache WHERE model_id = ?`).run(modelId);
    return result.changes;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
