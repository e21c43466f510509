/**
 * The SQLite store's tables and indexes, how a file is recognised as ours before SQLite opens it,
 * and how a file of an earlier release is brought up to date.
 */
import { copyFileSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ModelManagerError } from '../../errors.js';
import type { ModelMetadata } from '../schema.js';
import { searchWords } from '../search.js';
import { corruptFileError, emptyFileError, readHead, storeFileSize } from './store-file.js';

export const APP_MARK = 'model-manager';
/**
 * 2: search indexes labels (tags, capabilities, type, architecture); models.local_path.
 * 3: models.access_level and access_groups (what a caller may see is counted from the index).
 */
export const SCHEMA_VERSION = 3;
/** SQLite's header field for the program a file belongs to ("MMRG"): a file is known as ours before it is opened. */
export const APPLICATION_ID = 0x4d4d5247;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS mm_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  model_id TEXT NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  model_name TEXT NOT NULL,
  model_type TEXT NOT NULL,
  architecture TEXT NOT NULL,
  attention_type TEXT,
  format TEXT,
  source TEXT NOT NULL,
  parameter_count INTEGER,
  context_length INTEGER,
  total_bytes INTEGER,
  created_at TEXT,
  updated_at TEXT,
  -- architecture as written, for stats (the indexed column is lower-cased for filtering)
  arch_label TEXT NOT NULL,
  local_path TEXT,
  access_level TEXT NOT NULL DEFAULT 'public',
  -- the model's groups as a JSON array, read with json_each only for restricted models
  access_groups TEXT NOT NULL DEFAULT '[]'
);
-- Each filter index also holds (model_id, version): a filtered page comes out of the index in id
-- order without visiting the table. Type + format + size is the usual \`mm list\` question.
CREATE INDEX IF NOT EXISTS models_type ON models(model_type, model_id, version);
CREATE INDEX IF NOT EXISTS models_type_format ON models(model_type, format, parameter_count, model_id, version);
CREATE INDEX IF NOT EXISTS models_arch ON models(architecture, model_id, version);
CREATE INDEX IF NOT EXISTS models_attention ON models(attention_type, model_id, version);
CREATE INDEX IF NOT EXISTS models_format ON models(format, model_id, version);
CREATE INDEX IF NOT EXISTS models_source ON models(source, model_id, version);
CREATE INDEX IF NOT EXISTS models_params ON models(parameter_count);
CREATE INDEX IF NOT EXISTS models_bytes ON models(total_bytes);
CREATE INDEX IF NOT EXISTS models_updated ON models(updated_at);
CREATE INDEX IF NOT EXISTS models_local_path ON models(local_path, model_id, version) WHERE local_path IS NOT NULL;
CREATE INDEX IF NOT EXISTS models_access ON models(access_level, model_id, version);
CREATE TABLE IF NOT EXISTS model_tags (tag TEXT NOT NULL, model_id TEXT NOT NULL, PRIMARY KEY (tag, model_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS model_tags_model ON model_tags(model_id);
CREATE TABLE IF NOT EXISTS model_io (
  direction TEXT NOT NULL, data_type TEXT NOT NULL, model_id TEXT NOT NULL,
  PRIMARY KEY (direction, data_type, model_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS model_io_model ON model_io(model_id);
-- Rowid tables: their rows hold whole JSON records, which WITHOUT ROWID tables pack poorly (3x the disk).
CREATE TABLE IF NOT EXISTS model_versions (
  model_id TEXT NOT NULL, version INTEGER NOT NULL, created_at TEXT NOT NULL, change TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (model_id, version));
CREATE TABLE IF NOT EXISTS model_cache (
  model_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER,
  PRIMARY KEY (model_id, key));
-- The words of search.ts's fields (rowid = the models row), so FTS finds exactly what rankSearch scores.
CREATE VIRTUAL TABLE IF NOT EXISTS models_fts USING fts5(model_id UNINDEXED, names, labels, description, tokenize = 'unicode61 remove_diacritics 0');
`;

export type Row = { data: string };

/** Joins a page of model rows to their current records. */
export const CURRENT_RECORD = `JOIN model_versions v ON v.model_id = p.model_id AND v.version = p.version`;

/** The access_level and access_groups values of a model (records of an early release may lack them: the schema's defaults). */
export function accessValues(model: ModelMetadata): [string, string] {
  return [model.accessLevel ?? 'public', JSON.stringify(model.groups ?? [])];
}

/** The models_fts values of a model: its id, then its search words by field. */
export function ftsValues(model: ModelMetadata): [string, string, string, string] {
  const words = searchWords(model);
  return [model.modelId, words.names.join(' '), words.labels.join(' '), words.description.join(' ')];
}

const WHAT = 'SQLite';
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Looks at the file at `path` before SQLite opens it (opening writes `-wal`/`-shm` files beside
 * it), and refuses one that is not a Model Manager registry, leaving it and its folder untouched.
 * @returns false when there is no file yet.
 * @throws ModelManagerError STORE_FOREIGN (empty, or another program's), STORE_CORRUPT (not SQLite, or cut short)
 */
export function checkExistingFile(path: string): boolean {
  const size = storeFileSize(path);
  if (size === undefined) return false;
  if (size === 0) throw emptyFileError(path, WHAT);
  const head = readHead(path, 100);
  if (head.length < 100 || !head.subarray(0, MAGIC.length).equals(MAGIC)) throw corruptFileError(path, WHAT, 'it has no SQLite header');
  const rawPageSize = head.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw corruptFileError(path, WHAT, `its header gives a page size of ${rawPageSize}`);
  // The page count is valid when the header's "version valid for" equals its change counter.
  const pages = head.readUInt32BE(28);
  const counted = pages > 0 && head.readUInt32BE(92) === head.readUInt32BE(24);
  // Read after the header: a checkpoint writes the header's page before the pages it counts.
  const now = storeFileSize(path) ?? 0;
  // While the -wal file holds pages (a process has the file open, or crashed), SQLite writes them back on opening.
  if ((now % pageSize !== 0 || (counted && now < pages * pageSize)) && !((storeFileSize(`${path}-wal`) ?? 0) > 0)) {
    throw corruptFileError(path, WHAT, `cut short: ${now} bytes, where its header counts ${counted ? pages : 'whole'} pages of ${pageSize} bytes`);
  }
  const applicationId = head.readInt32BE(68);
  if (applicationId === APPLICATION_ID) return true;
  if (applicationId !== 0) throw foreignFile(path, `application id ${applicationId}`);
  // No mark in the header: a registry of an earlier release, or another program's database.
  probeTables(path, head[18] === 2);
  return true;
}

function foreignFile(path: string, seen: string, details: Record<string, unknown> = {}): ModelManagerError {
  return new ModelManagerError('STORE_FOREIGN', `${path} is an SQLite database of another program (${seen}); it was left untouched. Point --db at a new file.`, {
    details: { path, ...details },
  });
}

/** Reads the tables of a database without a mark in its header, read-only, and refuses it unless mm_meta says it is ours. */
function probeTables(path: string, walMode: boolean): void {
  // Reading a WAL database creates its -wal and -shm files when nobody has it open: read a copy then.
  const copyDir = walMode && !existsSync(`${path}-wal`) && !existsSync(`${path}-shm`) ? mkdtempSync(join(tmpdir(), 'mm-probe-')) : undefined;
  let probe: Database.Database | undefined;
  try {
    const target = copyDir ? join(copyDir, 'probe.db') : path;
    if (copyDir) copyFileSync(path, target, constants.COPYFILE_FICLONE);
    probe = new Database(target, { readonly: true, fileMustExist: true });
    const tables = probe.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
    const mark = tables.includes('mm_meta') ? (probe.prepare(`SELECT value FROM mm_meta WHERE key = 'app'`).pluck().get() as string | undefined) : undefined;
    if (mark !== APP_MARK) throw foreignFile(path, tables.length === 0 ? 'no tables' : `tables ${tables.slice(0, 5).join(', ')}`, { tables: tables.slice(0, 10) });
  } catch (error) {
    if (error instanceof ModelManagerError) throw error;
    throw corruptFileError(path, WHAT, (error as Error).message, error);
  } finally {
    probe?.close();
    if (copyDir) rmSync(copyDir, { recursive: true, force: true });
  }
}

/**
 * Makes `db` a registry of this schema: creates the tables of a new one, brings one of an earlier
 * release up to date, and marks its header as ours. Writes nothing when it is up to date.
 * @throws ModelManagerError STORE_FOREIGN when the file is of a newer schema than this release reads
 */
export function prepareDatabase(db: Database.Database): void {
  const schemaOf = () => {
    const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mm_meta'`).get() !== undefined;
    const schema = hasMeta ? Number(db.prepare(`SELECT value FROM mm_meta WHERE key = 'schema'`).pluck().get() ?? 0) : undefined;
    if (schema !== undefined && schema > SCHEMA_VERSION) {
      throw new ModelManagerError('STORE_FOREIGN', `${db.name} is a registry of schema ${schema}, newer than this Model Manager reads (${SCHEMA_VERSION}); it was left untouched. Upgrade Model Manager.`, {
        details: { path: db.name, schema },
      });
    }
    return schema;
  };
  const seen = schemaOf();
  if (seen === SCHEMA_VERSION && db.pragma('application_id', { simple: true }) === APPLICATION_ID) return;
  if (seen === undefined) {
    // 8 KiB pages in a new database (an existing one keeps its own): a record's JSON is 1-4 KB,
    // so a 4 KiB page holds one and wastes the rest. Adding 10,000 scanned models wrote 30%
    // fewer pages and took ~20% less time. Must come before the first table and before WAL.
    db.pragma('page_size = 8192');
  }
  db.pragma('journal_mode = WAL');
  db.transaction(() => {
    // Read again under the write lock: another process may have brought the file up to date meanwhile.
    const schema = schemaOf();
    const before2 = schema !== undefined && schema < 2;
    const before3 = schema !== undefined && schema < 3;
    if (before2) db.exec(`DROP TABLE IF EXISTS models_fts; ALTER TABLE models ADD COLUMN local_path TEXT;`);
    if (before3) db.exec(`ALTER TABLE models ADD COLUMN access_level TEXT NOT NULL DEFAULT 'public'; ALTER TABLE models ADD COLUMN access_groups TEXT NOT NULL DEFAULT '[]';`);
    db.exec(SCHEMA);
    if (before3) reindex(db, { words: before2 });
    db.prepare(`INSERT OR REPLACE INTO mm_meta (key, value) VALUES ('app', ?), ('schema', ?)`).run(APP_MARK, String(SCHEMA_VERSION));
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}

/** Fills the columns an earlier schema lacked (local_path, access, and with `words` the search words) from the current records. */
function reindex(db: Database.Database, { words }: { words: boolean }): void {
  const setColumns = db.prepare(`UPDATE models SET local_path = ?, access_level = ?, access_groups = ? WHERE rowid = ?`);
  const addWords = db.prepare(`INSERT INTO models_fts (rowid, model_id, names, labels, description) VALUES (?, ?, ?, ?, ?)`);
  // In slices: a statement being read cannot be written through, and all records at once may not fit in memory.
  const slice = db.prepare(`SELECT p.rowid AS rowid, v.data AS data FROM models p ${CURRENT_RECORD} WHERE p.rowid > ? ORDER BY p.rowid LIMIT 1000`);
  for (let after = 0; ;) {
    const rows = slice.all(after) as { rowid: number; data: string }[];
    if (rows.length === 0) return;
    for (const row of rows) {
      const model = JSON.parse(row.data) as ModelMetadata;
      setColumns.run(model.localPath ?? null, ...accessValues(model), row.rowid);
      if (words) addWords.run(row.rowid, ...ftsValues(model));
    }
    after = rows.at(-1)!.rowid;
  }
}
