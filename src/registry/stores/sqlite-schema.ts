/**
 * The SQLite store's tables and indexes, and how a file is recognised as ours.
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ModelManagerError } from '../../errors.js';
import type { SortField } from '../query.js';

export const APP_MARK = 'model-manager';
export const SCHEMA_VERSION = '1';

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
  arch_label TEXT NOT NULL
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
CREATE VIRTUAL TABLE IF NOT EXISTS models_fts USING fts5(names, tags, description, tokenize = 'unicode61 remove_diacritics 0');
`;

export const SORT_COLUMNS = {
  modelId: 'model_id',
  modelName: 'model_name',
  parameterCount: 'parameter_count',
  contextLength: 'context_length',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} as const satisfies Record<SortField, string>;

export type Row = { data: string };

/** Joins a page of model rows to their current records. */
export const CURRENT_RECORD = `JOIN model_versions v ON v.model_id = p.model_id AND v.version = p.version`;

/** Refuses files that are not a Model Manager SQLite registry, without writing to them. */
export function checkExistingFile(path: string): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  let probe: Database.Database | undefined;
  try {
    probe = new Database(path, { readonly: true, fileMustExist: true });
    const tables = probe.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
    if (tables.length === 0) return;
    const mark = tables.includes('mm_meta')
      ? (probe.prepare(`SELECT value FROM mm_meta WHERE key = 'app'`).pluck().get() as string | undefined)
      : undefined;
    if (mark !== APP_MARK) {
      throw new ModelManagerError('STORE_FOREIGN', `${path} is an SQLite database of another program; it was left untouched. Point --db at a new file.`, {
        details: { path, tables: tables.slice(0, 10) },
      });
    }
  } catch (error) {
    if (error instanceof ModelManagerError) throw error;
    throw new ModelManagerError('STORE_CORRUPT', `${path} is not a readable SQLite registry (${(error as Error).message}); it was left untouched. Restore it from a backup or point --db elsewhere.`, {
      details: { path },
      cause: error,
    });
  } finally {
    probe?.close();
  }
}
