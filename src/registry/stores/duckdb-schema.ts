/**
 * The DuckDB store's tables, how a record becomes a row, and how a file is recognised as ours.
 */
import { existsSync, statSync } from 'node:fs';
import { DuckDBListValue, LIST, VARCHAR, listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { ModelManagerError } from '../../errors.js';
import { searchTerms, type SortField } from '../query.js';
import type { ModelMetadata } from '../schema.js';
import { openWithRetry } from './duckdb-lease.js';

export const APP_MARK = 'model-manager';
export const SCHEMA_VERSION = '1';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS mm_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS models (
  model_id VARCHAR PRIMARY KEY, version INTEGER NOT NULL, model_name VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
  architecture VARCHAR NOT NULL, arch_label VARCHAR NOT NULL, attention_type VARCHAR, format VARCHAR, source VARCHAR NOT NULL,
  parameter_count BIGINT, context_length BIGINT, total_bytes BIGINT, created_at VARCHAR, updated_at VARCHAR,
  tags VARCHAR[] NOT NULL, input_types VARCHAR[] NOT NULL, output_types VARCHAR[] NOT NULL,
  search_names VARCHAR NOT NULL, search_tags VARCHAR NOT NULL, search_text VARCHAR NOT NULL, data VARCHAR NOT NULL);
CREATE INDEX IF NOT EXISTS models_type ON models(model_type);
CREATE INDEX IF NOT EXISTS models_arch ON models(architecture);
CREATE INDEX IF NOT EXISTS models_format ON models(format);
CREATE INDEX IF NOT EXISTS models_source ON models(source);
CREATE TABLE IF NOT EXISTS model_versions (
  model_id VARCHAR NOT NULL, version INTEGER NOT NULL, created_at VARCHAR NOT NULL, change VARCHAR NOT NULL, data VARCHAR NOT NULL,
  PRIMARY KEY (model_id, version));
CREATE TABLE IF NOT EXISTS model_cache (
  model_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, expires_at BIGINT, PRIMARY KEY (model_id, key));
`;

export const MODEL_COLUMNS = `model_id, version, model_name, model_type, architecture, arch_label, attention_type, format, source, parameter_count,
  context_length, total_bytes, created_at, updated_at, tags, input_types, output_types, search_names, search_tags, search_text, data`;
export const ROW_PLACEHOLDERS = `(${MODEL_COLUMNS.split(',').map(() => '?').join(',')})`;
// Rows per INSERT statement when adding many models: one statement per row is slow in DuckDB.
export const INSERT_CHUNK = 200;

export const SORT_COLUMNS = {
  modelId: 'model_id',
  modelName: 'model_name',
  parameterCount: 'parameter_count',
  contextLength: 'context_length',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} as const satisfies Record<SortField, string>;

export function modelRow(model: ModelMetadata, version: number): DuckDBValue[] {
  const text = (v: string | undefined) => v ?? null;
  const num = (v: number | undefined) => (v === undefined ? null : BigInt(v));
  return [
    model.modelId, version, model.modelName, model.modelType, model.architecture.toLowerCase(), model.architecture, text(model.attentionType),
    text(model.format), model.source, num(model.parameterCount), num(model.contextLength), num(model.memoryEstimate?.totalBytes),
    text(model.createdAt), text(model.updatedAt), listValue(model.tags), listValue(model.inputs.map((s) => s.dataType)),
    listValue(model.outputs.map((s) => s.dataType)),
    words(`${model.modelId} ${model.modelName} ${model.displayName ?? ''}`), words(model.tags.join(' ')), words(model.description),
    JSON.stringify(model),
  ];
}

/** The search words of a text, each after a space: `contains(column, ' ' || term)` then finds a word that begins with the term. */
const words = (text: string) => searchTerms(text).map((w) => ` ${w}`).join('');

const VARCHAR_LIST = LIST(VARCHAR);

/** Parameter types: every list we bind holds strings, and an empty one cannot say so by itself. */
export function typesOf(values: DuckDBValue[]): DuckDBType[] {
  return values.map((v) => (v instanceof DuckDBListValue ? VARCHAR_LIST : undefined)) as DuckDBType[];
}

export async function rows(connection: DuckDBConnection, sql: string, values: DuckDBValue[] = []): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql, values, typesOf(values))).getRowObjectsJS() as Record<string, unknown>[];
}

export async function exec(connection: DuckDBConnection, sql: string, values: DuckDBValue[] = []): Promise<number> {
  return (await connection.run(sql, values, typesOf(values))).rowsChanged;
}

/** Refuses files that are not a Model Manager DuckDB registry, opening them read-only so they stay untouched. */
export async function checkExistingFile(path: string, lockTimeoutMs: number): Promise<void> {
  if (!existsSync(path) || statSync(path).size === 0) return;
  let probe;
  try {
    probe = await openWithRetry(path, { access_mode: 'READ_ONLY' }, lockTimeoutMs);
  } catch (error) {
    if (error instanceof ModelManagerError) throw error;
    throw new ModelManagerError('STORE_CORRUPT', `${path} is not a readable DuckDB registry (${(error as Error).message.split('\n')[0]}); it was left untouched. Restore it from a backup or point --db elsewhere.`, {
      details: { path },
      cause: error,
    });
  }
  try {
    const connection = await probe.connect();
    try {
      const tables = (await rows(connection, `SELECT table_name AS name FROM information_schema.tables`)).map((r) => String(r.name));
      if (tables.length === 0) return;
      const mark = tables.includes('mm_meta') ? (await rows(connection, `SELECT value FROM mm_meta WHERE key = 'app'`))[0]?.value : undefined;
      if (mark !== APP_MARK) {
        throw new ModelManagerError('STORE_FOREIGN', `${path} is a DuckDB database of another program; it was left untouched. Point --db at a new file.`, {
          details: { path, tables: tables.slice(0, 10) },
        });
      }
    } finally {
      connection.closeSync();
    }
  } finally {
    probe.closeSync();
  }
}
