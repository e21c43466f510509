/**
 * The DuckDB store's tables, how a record becomes a row, how a file is recognised as ours before
 * it is opened for writing, and how a file of an earlier release is brought up to date.
 */
import { DuckDBInstance, DuckDBListValue, LIST, VARCHAR, listValue, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { ModelManagerError } from '../../errors.js';
import type { ModelMetadata } from '../schema.js';
import { searchWords } from '../search.js';
import { NO_NETWORK, openWithRetry } from './duckdb-lease.js';
import { corruptFileError, emptyFileError, readHead, storeFileSize } from './store-file.js';

export const APP_MARK = 'model-manager';
/**
 * 2: search words with labels (tags, capabilities, type, architecture), each word between spaces; local_path.
 * 3: access_level and access_groups (what a caller may see is counted from the columns).
 * 4: search_names_labels (the words of names and labels together) in place of search_labels: one
 *    scan tells where every term begins a word of a name or label; each word kept once, the search
 *    columns stored uncompressed.
 */
export const SCHEMA_VERSION = 4;

// Every search reads its columns whole; stored plain, they are read a quarter faster than decompressed.
const SEARCH_WORDS = 'VARCHAR NOT NULL USING COMPRESSION uncompressed';

const MODELS_TABLE = (name: string) => `CREATE TABLE ${name} (
  model_id VARCHAR PRIMARY KEY, version INTEGER NOT NULL, model_name VARCHAR NOT NULL, model_type VARCHAR NOT NULL,
  architecture VARCHAR NOT NULL, arch_label VARCHAR NOT NULL, attention_type VARCHAR, format VARCHAR, source VARCHAR NOT NULL,
  parameter_count BIGINT, context_length BIGINT, total_bytes BIGINT, created_at VARCHAR, updated_at VARCHAR, local_path VARCHAR,
  access_level VARCHAR NOT NULL, access_groups VARCHAR[] NOT NULL, tags VARCHAR[] NOT NULL, input_types VARCHAR[] NOT NULL, output_types VARCHAR[] NOT NULL,
  search_names ${SEARCH_WORDS}, search_names_labels ${SEARCH_WORDS}, search_text ${SEARCH_WORDS}, data VARCHAR NOT NULL)`;

const SCHEMA = `
CREATE TABLE mm_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
${MODELS_TABLE('models')};
CREATE TABLE model_versions (
  model_id VARCHAR NOT NULL, version INTEGER NOT NULL, created_at VARCHAR NOT NULL, change VARCHAR NOT NULL, data VARCHAR NOT NULL,
  PRIMARY KEY (model_id, version));
CREATE TABLE model_cache (
  model_id VARCHAR NOT NULL, key VARCHAR NOT NULL, value VARCHAR NOT NULL, expires_at BIGINT, PRIMARY KEY (model_id, key));
`;

const MODEL_INDEXES = `
CREATE INDEX IF NOT EXISTS models_type ON models(model_type);
CREATE INDEX IF NOT EXISTS models_arch ON models(architecture);
CREATE INDEX IF NOT EXISTS models_format ON models(format);
CREATE INDEX IF NOT EXISTS models_source ON models(source);
CREATE INDEX IF NOT EXISTS models_local_path ON models(local_path);
`;

export const MODEL_COLUMNS = `model_id, version, model_name, model_type, architecture, arch_label, attention_type, format, source, parameter_count,
  context_length, total_bytes, created_at, updated_at, local_path, access_level, access_groups, tags, input_types, output_types, search_names,
  search_names_labels, search_text, data`;
export const ROW_PLACEHOLDERS = `(${MODEL_COLUMNS.split(',').map(() => '?').join(',')})`;
// Rows per INSERT statement when adding many models: one statement per row is slow in DuckDB.
export const INSERT_CHUNK = 200;

export function modelRow(model: ModelMetadata, version: number): DuckDBValue[] {
  const text = (v: string | undefined) => v ?? null;
  const num = (v: number | undefined) => (v === undefined ? null : BigInt(v));
  const words = searchWords(model);
  return [
    model.modelId, version, model.modelName, model.modelType, model.architecture.toLowerCase(), model.architecture, text(model.attentionType),
    text(model.format), model.source, num(model.parameterCount), num(model.contextLength), num(model.memoryEstimate?.totalBytes),
    text(model.createdAt), text(model.updatedAt), text(model.localPath), model.accessLevel ?? 'public', listValue(model.groups ?? []), listValue(model.tags), listValue(model.inputs.map((s) => s.dataType)),
    listValue(model.outputs.map((s) => s.dataType)), spaced(words.names), spaced([...words.names, ...words.labels]), spaced(words.description),
    JSON.stringify(model),
  ];
}

/**
 * Words with a space before and after each: `contains(column, ' t ')` finds the word t,
 * `contains(column, ' t')` a word beginning with t. Each word once: search asks only whether a
 * word is there, and every search reads the whole column.
 */
const spaced = (words: readonly string[]) => ` ${[...new Set(words)].join(' ')} `;

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

const WHAT = 'DuckDB';
// A DuckDB file starts with three 4 KiB headers, the first with "DUCK" at byte 8.
const HEADERS_BYTES = 3 * 4096;

/**
 * Refuses a file whose tables use blocks past its end. DuckDB reads a table's blocks only when
 * the table is queried, so a file cut short opens and fails later, at the first query.
 */
async function checkBlocks(connection: DuckDBConnection, path: string, tables: readonly string[]): Promise<void> {
  const blockBytes = BigInt(String((await rows(connection, `SELECT block_size FROM pragma_database_size()`))[0]?.block_size ?? 262_144));
  let last = -1n;
  for (const table of tables) {
    const used = (await rows(connection, `SELECT max(greatest(block_id, coalesce(list_max(additional_block_ids), -1))) AS last
      FROM pragma_storage_info('${table.replace(/'/g, "''")}') WHERE persistent`))[0]?.last;
    if (typeof used === 'bigint' && used > last) last = used;
  }
  const needed = BigInt(HEADERS_BYTES) + (last + 1n) * blockBytes;
  // The size now, with the file open: another process may have written to it while we waited for our turn.
  const size = storeFileSize(path) ?? 0;
  if (BigInt(size) < needed) throw corruptFileError(path, WHAT, `cut short: ${size} bytes, where its tables need ${needed}`);
}

/**
 * Refuses a file that is not a Model Manager DuckDB registry, reading it read-only so that it
 * stays untouched.
 * @returns false when there is no file yet.
 * @throws ModelManagerError STORE_FOREIGN (empty, another program's, or a newer schema), STORE_CORRUPT, STORE_LOCKED
 */
export async function checkExistingFile(path: string, lockTimeoutMs: number): Promise<boolean> {
  const size = storeFileSize(path);
  if (size === undefined) return false;
  if (size === 0) throw emptyFileError(path, WHAT);
  if (size < HEADERS_BYTES || readHead(path, 12).toString('latin1', 8, 12) !== 'DUCK') throw corruptFileError(path, WHAT, 'it has no DuckDB header');
  let probe;
  try {
    probe = await openWithRetry(path, { access_mode: 'READ_ONLY' }, lockTimeoutMs);
  } catch (error) {
    if (error instanceof ModelManagerError) throw error;
    throw corruptFileError(path, WHAT, (error as Error).message.split('\n')[0]!, error);
  }
  try {
    const connection = await probe.connect();
    try {
      const tables = (await rows(connection, `SELECT table_name AS name FROM information_schema.tables`)).map((r) => String(r.name));
      const meta = tables.includes('mm_meta') ? await rows(connection, `SELECT key, value FROM mm_meta`) : [];
      const value = (key: string) => meta.find((r) => r.key === key)?.value;
      if (value('app') !== APP_MARK) {
        throw new ModelManagerError('STORE_FOREIGN', `${path} is a DuckDB database of another program (${tables.length === 0 ? 'no tables' : `tables ${tables.slice(0, 5).join(', ')}`}); it was left untouched. Point --db at a new file.`, {
          details: { path, tables: tables.slice(0, 10) },
        });
      }
      const schema = Number(value('schema'));
      if (schema > SCHEMA_VERSION) {
        throw new ModelManagerError('STORE_FOREIGN', `${path} is a registry of schema ${schema}, newer than this Model Manager reads (${SCHEMA_VERSION}); it was left untouched. Upgrade Model Manager.`, {
          details: { path, schema },
        });
      }
      // Blocks of commits still in the WAL may lie past the end until the next checkpoint writes them.
      if (!((storeFileSize(`${path}.wal`) ?? 0) > 0)) await checkBlocks(connection, path, tables);
      return true;
    } finally {
      connection.closeSync();
    }
  } catch (error) {
    if (error instanceof ModelManagerError) throw error;
    throw corruptFileError(path, WHAT, (error as Error).message.split('\n')[0]!, error);
  } finally {
    probe.closeSync();
  }
}

/** Makes a new registry file at `path` (under a temporary name, see createWhole). */
export async function buildNew(path: string): Promise<void> {
  const instance = await DuckDBInstance.create(path, NO_NETWORK);
  try {
    const c = await instance.connect();
    try {
      await c.run(`BEGIN; ${SCHEMA} ${MODEL_INDEXES}`);
      await c.run(`INSERT INTO mm_meta VALUES ('app', ?), ('schema', ?)`, [APP_MARK, String(SCHEMA_VERSION)]);
      await c.run('COMMIT; CHECKPOINT');
    } finally {
      c.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/**
 * Brings a registry of an earlier schema up to date: the models table is made again with the
 * columns of this one (DuckDB cannot alter a table that has indexes), its rows rebuilt from the
 * records they hold.
 */
export async function upgrade(c: DuckDBConnection): Promise<void> {
  const schema = Number((await rows(c, `SELECT value FROM mm_meta WHERE key = 'schema'`))[0]?.value ?? 0);
  if (schema >= SCHEMA_VERSION) return;
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run(MODELS_TABLE('models_next'));
    // In slices by id: all records at once may not fit in memory.
    for (let after = ''; ;) {
      const chunk = await rows(c, `SELECT model_id, version, data FROM models WHERE model_id > ? ORDER BY model_id LIMIT ${INSERT_CHUNK}`, [after]);
      if (chunk.length === 0) break;
      await exec(c, `INSERT INTO models_next (${MODEL_COLUMNS}) VALUES ${chunk.map(() => ROW_PLACEHOLDERS).join(',')}`,
        chunk.flatMap((r) => modelRow(JSON.parse(String(r.data)) as ModelMetadata, Number(r.version))));
      after = String(chunk.at(-1)!.model_id);
    }
    await c.run(`DROP TABLE models; ALTER TABLE models_next RENAME TO models; ${MODEL_INDEXES}`);
    await c.run(`UPDATE mm_meta SET value = ? WHERE key = 'schema'`, [String(SCHEMA_VERSION)]);
    await c.run('COMMIT');
  } catch (error) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
