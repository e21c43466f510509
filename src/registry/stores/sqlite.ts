/**
 * SqliteStore: the default registry store (better-sqlite3, WAL).
 *
 * Filter fields live in narrow indexed columns; tags and I/O types in their own tables; the JSON
 * records only in model_versions (the current one is the row of the current version), so filters
 * scan small rows and read records only for the page they return. Names, tags and descriptions
 * are in an FTS5 index that finds search candidates, which are then ranked by the shared
 * `rankSearch` so every store orders results alike.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ModelManagerError } from '../../errors.js';
import { rankSearch, searchTerms, type ModelFilter, type SearchHit } from '../query.js';
import type { ModelMetadata } from '../schema.js';
import { APP_MARK, CURRENT_RECORD, SCHEMA, SCHEMA_VERSION, checkExistingFile, type Row } from './sqlite-schema.js';
import { SORT_COLUMNS, scalarClauses } from './sql-query.js';
import { versionConflict, type CountMap, type RegistryStats, type RegistryStore, type StoredModel, type VersionInfo } from './store.js';

export class SqliteStore implements RegistryStore {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();
  #closed = false;

  private constructor(readonly location: string, db: Database.Database) {
    this.#db = db;
  }

  /** Opens (creating if needed) the registry database at `path`. */
  static async open(path: string): Promise<SqliteStore> {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      checkExistingFile(path);
    }
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 30000');
      // 8 KiB pages in a new database (an existing one keeps its own): a record's JSON is 1-4 KB,
      // so a 4 KiB page holds one and wastes the rest. Adding 10,000 scanned models wrote 30%
      // fewer pages and took ~20% less time. Must come before the first table and before WAL.
      db.pragma('page_size = 8192');
      db.pragma('journal_mode = WAL');
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
      db.transaction(() => {
        db.exec(SCHEMA);
        db.prepare(`INSERT OR IGNORE INTO mm_meta (key, value) VALUES ('app', ?), ('schema', ?)`).run(APP_MARK, SCHEMA_VERSION);
      }).immediate();
    } catch (error) {
      db.close();
      throw new ModelManagerError('STORE_IO', `cannot open the SQLite registry at ${path}: ${(error as Error).message}`, { cause: error });
    }
    return new SqliteStore(path, db);
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
      model.createdAt ?? null, model.updatedAt ?? null, model.architecture,
    ];
    if (rowid === undefined) {
      rowid = Number(this.#sql(`INSERT INTO models (version, model_name, model_type, architecture, attention_type, format, source,
        parameter_count, context_length, total_bytes, created_at, updated_at, arch_label, model_id) VALUES (1, ?,?,?,?,?,?,?,?,?,?,?,?,?)`)
        .run(...cols, model.modelId).lastInsertRowid);
    } else {
      this.#sql(`UPDATE models SET version = version + ${sameVersion ? 0 : 1}, model_name = ?, model_type = ?, architecture = ?, attention_type = ?, format = ?,
        source = ?, parameter_count = ?, context_length = ?, total_bytes = ?, created_at = ?, updated_at = ?, arch_label = ? WHERE rowid = ?`)
        .run(...cols, rowid);
      this.#unindex(model.modelId, rowid);
    }
    const tag = this.#sql(`INSERT OR IGNORE INTO model_tags (tag, model_id) VALUES (?, ?)`);
    for (const t of model.tags) tag.run(t, model.modelId);
    const io = this.#sql(`INSERT OR IGNORE INTO model_io (direction, data_type, model_id) VALUES (?, ?, ?)`);
    for (const spec of model.inputs) io.run('in', spec.dataType, model.modelId);
    for (const spec of model.outputs) io.run('out', spec.dataType, model.modelId);
    this.#sql(`INSERT INTO models_fts (rowid, names, tags, description) VALUES (?, ?, ?, ?)`).run(
      rowid, [model.modelId, model.modelName, model.displayName ?? ''].join(' '), model.tags.join(' '), model.description,
    );
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
    const terms = searchTerms(text);
    if (terms.length === 0) return [];
    const pool = Math.max(200, limit * 10);
    const phrase = (t: string) => `"${t.replace(/"/g, '""')}"`;
    let ids: number[];
    if (terms.length === 1) {
      // One term: the score tiers of rankSearch (name word, name prefix, tag, tag prefix, description)
      // are FTS column queries; take them best first until the pool is full. Cheap even when a
      // common word matches a third of the registry, where ranking every match by bm25 is not.
      const t = phrase(terms[0]!);
      const tiers = [`{names} : ${t}`, `{names} : ${t}*`, `{tags} : ${t}`, `{tags} : ${t}*`, `${t}*`];
      const found = new Set<number>();
      for (const tier of tiers) {
        for (const id of this.#sql(`SELECT rowid FROM models_fts WHERE models_fts MATCH ? LIMIT ?`).pluck().all(tier, pool + found.size) as number[]) {
          if (found.size >= pool) break;
          found.add(id);
        }
        if (found.size >= pool) break;
      }
      ids = [...found];
    } else {
      // Several terms: bm25 (names weigh most) picks a generous pool from the fewer rows matching them all.
      ids = this.#sql(`SELECT rowid FROM models_fts WHERE models_fts MATCH ? ORDER BY bm25(models_fts, 10.0, 5.0, 1.0) LIMIT ?`)
        .pluck().all(terms.map((x) => `${phrase(x)}*`).join(' AND '), pool) as number[];
    }
    const rows = ids.length === 0 ? [] : this.#db.prepare(`SELECT v.data FROM models p ${CURRENT_RECORD}
      WHERE p.rowid IN (${ids.map(() => '?').join(',')})`).all(...ids) as Row[];
    // rankSearch orders the pool exactly as the other stores do.
    return rankSearch(rows.map((r) => JSON.parse(r.data) as ModelMetadata), text, limit);
  }

  async stats(): Promise<RegistryStats> {
    const db = this.#db;
    const group = (column: string): CountMap => {
      const rows = db.prepare(`SELECT ${column} AS k, count(*) AS n FROM models WHERE ${column} IS NOT NULL AND ${column} != '' GROUP BY ${column}`)
        .all() as { k: string; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.k, r.n]));
    };
    // architecture is stored lower-cased for filtering; report it as written.
    const archRows = db.prepare(`SELECT arch_label AS k, count(*) AS n FROM models WHERE architecture != '' GROUP BY k`).all() as { k: string; n: number }[];
    return {
      totalModels: db.prepare(`SELECT count(*) FROM models`).pluck().get() as number,
      totalVersions: db.prepare(`SELECT count(*) FROM model_versions`).pluck().get() as number,
      totalParameters: (db.prepare(`SELECT coalesce(sum(parameter_count), 0) FROM models`).pluck().get() as number) ?? 0,
      byType: group('model_type'),
      byArchitecture: Object.fromEntries(archRows.map((r) => [r.k, r.n])),
      byAttentionType: group('attention_type'),
      byFormat: group('format'),
      bySource: group('source'),
    };
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
