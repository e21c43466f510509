/**
 * The PostgreSQL store's schema as numbered migrations, and how a schema is recognised as ours,
 * brought up to date, or refused.
 *
 * Every table lives in one PostgreSQL schema (default `model_manager`, `?schema=` in the URL),
 * so a registry can share a database with other programs, or with other registries.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ModelManagerError } from '../../errors.js';
import type { ModelMetadata } from '../schema.js';
import { searchVector } from './postgres-search.js';

export const APP_MARK = 'model-manager';

export interface Migration {
  version: number;
  description: string;
  /** The statements, for the schema whose quoted name is `s`. */
  sql: (s: string) => string;
  /** What SQL alone cannot do, run after the statements in the same transaction. */
  run?: (client: pg.ClientBase, s: string) => Promise<void>;
}

/** Rows a data migration reads and writes at once. */
const MIGRATION_BATCH = 1_000;

/** Writes every model's search vector again, as searchVector makes it now. */
async function rewriteSearchVectors(client: pg.ClientBase, s: string): Promise<void> {
  for (let after = ''; ;) {
    const { rows } = await client.query<{ model_id: string; data: ModelMetadata }>(
      `SELECT model_id, data FROM ${s}.models WHERE model_id > $1 ORDER BY model_id LIMIT ${MIGRATION_BATCH}`, [after]);
    if (rows.length === 0) return;
    await client.query(`UPDATE ${s}.models m SET search = u.s::tsvector FROM unnest($1::text[], $2::text[]) AS u(id, s) WHERE m.model_id = u.id`,
      [rows.map((r) => r.model_id), rows.map((r) => searchVector(r.data))]);
    after = rows[rows.length - 1]!.model_id;
  }
}

/**
 * The columns a record fills, the same expressions for every write, so what a filter reads can
 * never drift from the record. `j` is the record as jsonb (parsed once; `->>` on json text would
 * parse it again for every column). Tags and I/O types are arrays with GIN indexes. The
 * architecture comes lower-cased as JavaScript does it (`a`): the server's lower() follows its locale.
 */
export const DERIVED_COLUMNS = {
  model_name: `j->>'modelName'`,
  model_type: `j->>'modelType'`,
  architecture: `a`,
  arch_label: `coalesce(j->>'architecture', '')`,
  attention_type: `j->>'attentionType'`,
  format: `j->>'format'`,
  source: `j->>'source'`,
  parameter_count: `(j->>'parameterCount')::bigint`,
  context_length: `(j->>'contextLength')::bigint`,
  total_bytes: `(j#>>'{memoryEstimate,totalBytes}')::bigint`,
  local_path: `j->>'localPath'`,
  created_at: `j->>'createdAt'`,
  updated_at: `j->>'updatedAt'`,
  tags: `ARRAY(SELECT jsonb_array_elements_text(coalesce(j->'tags', '[]')))`,
  input_types: `ARRAY(SELECT DISTINCT io->>'dataType' FROM jsonb_array_elements(coalesce(j->'inputs', '[]')) io)`,
  output_types: `ARRAY(SELECT DISTINCT io->>'dataType' FROM jsonb_array_elements(coalesce(j->'outputs', '[]')) io)`,
  access_level: `coalesce(j->>'accessLevel', 'public')`,
  access_groups: `ARRAY(SELECT jsonb_array_elements_text(coalesce(j->'groups', '[]')))`,
} as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'models, versions, cache, search vectors',
    sql: (s) => `
CREATE TABLE ${s}.models (
  -- "C" collation: ids and names sort by code point, as the other stores and compareModels do.
  model_id text COLLATE "C" PRIMARY KEY,
  version integer NOT NULL,
  model_name text COLLATE "C" NOT NULL,
  model_type text NOT NULL,
  architecture text NOT NULL,
  arch_label text NOT NULL,
  attention_type text,
  format text,
  source text NOT NULL,
  parameter_count bigint,
  context_length bigint,
  total_bytes bigint,
  created_at text COLLATE "C",
  updated_at text COLLATE "C",
  tags text[] NOT NULL,
  input_types text[] NOT NULL,
  output_types text[] NOT NULL,
  -- Search words of names, tags and the description, each marked by its field (see postgres-search.ts).
  search tsvector NOT NULL,
  -- The record as the registry wrote it (json keeps it to the byte; cast to jsonb for containment queries).
  data json NOT NULL
);
-- Type + format + size is the usual \`mm list\` question: its first page comes out of this index in id order.
CREATE INDEX models_type_format ON ${s}.models (model_type, format, model_id) INCLUDE (parameter_count);
CREATE INDEX models_arch ON ${s}.models (architecture, model_id);
CREATE INDEX models_attention ON ${s}.models (attention_type, model_id);
CREATE INDEX models_format ON ${s}.models (format, model_id);
CREATE INDEX models_source ON ${s}.models (source, model_id);
CREATE INDEX models_params ON ${s}.models (parameter_count);
CREATE INDEX models_bytes ON ${s}.models (total_bytes);
CREATE INDEX models_updated ON ${s}.models (updated_at);
CREATE INDEX models_tags ON ${s}.models USING gin (tags);
CREATE INDEX models_inputs ON ${s}.models USING gin (input_types);
CREATE INDEX models_outputs ON ${s}.models USING gin (output_types);
CREATE INDEX models_search ON ${s}.models USING gin (search);
CREATE TABLE ${s}.model_versions (
  model_id text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  created_at text NOT NULL,
  change text NOT NULL,
  data json NOT NULL,
  PRIMARY KEY (model_id, version)
);
CREATE TABLE ${s}.model_cache (
  model_id text COLLATE "C" NOT NULL,
  key text NOT NULL,
  value jsonb NOT NULL,
  expires_at bigint,
  PRIMARY KEY (model_id, key)
);
`,
  },
  {
    version: 2,
    description: 'cluster: servers with their heartbeat, and the models each has loaded',
    sql: (s) => `
CREATE TABLE ${s}.cluster_hosts (
  host_id text COLLATE "C" NOT NULL,
  url text COLLATE "C" NOT NULL,
  version text NOT NULL,
  started_at timestamptz NOT NULL,
  -- Written with the database's clock, and judged by it: hosts' clocks may disagree.
  heartbeat_at timestamptz NOT NULL,
  heartbeat_ms integer NOT NULL,
  info jsonb NOT NULL,
  PRIMARY KEY (host_id, url)
);
CREATE TABLE ${s}.cluster_loaded (
  host_id text COLLATE "C" NOT NULL,
  url text COLLATE "C" NOT NULL,
  name text NOT NULL,
  model_id text NOT NULL,
  info jsonb NOT NULL,
  PRIMARY KEY (host_id, url, name),
  FOREIGN KEY (host_id, url) REFERENCES ${s}.cluster_hosts ON DELETE CASCADE
);
CREATE INDEX cluster_loaded_model ON ${s}.cluster_loaded (model_id);
`,
  },
  {
    version: 3,
    description: 'search covers labels (capabilities, type, architecture and its camel-case parts) and the Hugging Face id; models.local_path',
    sql: (s) => `
ALTER TABLE ${s}.models ADD COLUMN local_path text;
UPDATE ${s}.models SET local_path = data->>'localPath' WHERE data->>'localPath' IS NOT NULL;
-- The runtime looks up the model at a path it was given (ModelFilter.localPath).
CREATE INDEX models_local_path ON ${s}.models (local_path, model_id) WHERE local_path IS NOT NULL;
`,
    run: rewriteSearchVectors,
  },
  {
    version: 4,
    description: 'models.access_level and access_groups: what a caller may see is counted and paged from an index',
    sql: (s) => `
ALTER TABLE ${s}.models ADD COLUMN access_level text NOT NULL DEFAULT 'public', ADD COLUMN access_groups text[] NOT NULL DEFAULT '{}';
UPDATE ${s}.models SET access_level = coalesce(data->>'accessLevel', 'public'),
  access_groups = ARRAY(SELECT json_array_elements_text(coalesce(data->'groups', '[]')))
  WHERE data->>'accessLevel' IS DISTINCT FROM 'public' OR json_array_length(coalesce(data->'groups', '[]')) > 0;
CREATE INDEX models_access ON ${s}.models (access_level, model_id);
CREATE INDEX models_access_groups ON ${s}.models USING gin (access_groups);
`,
  },
  {
    version: 5,
    description: 'api_keys: the API keys every server on the registry accepts, hashed as a keys file keeps them',
    sql: (s) => `
CREATE TABLE ${s}.api_keys (
  id text COLLATE "C" PRIMARY KEY,
  user_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
  groups text[] NOT NULL,
  -- sha256:<hex> of the whole key; the key itself is shown once when minted and kept nowhere.
  hash text NOT NULL CHECK (hash ~ '^sha256:[a-f0-9]{64}$'),
  created_at text NOT NULL,
  rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0)
);
CREATE INDEX api_keys_user ON ${s}.api_keys (user_name);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** PostgreSQL refuses a NOTIFY channel of NAMEDATALEN (64) bytes or more, and LISTEN cuts one that long. */
const MAX_CHANNEL_BYTES = 63;

/**
 * The NOTIFY channel of the registry in `schema`: one per schema, so registries sharing a database
 * stay apart. A schema name too long for a channel (they may have 63 bytes) is named by its hash.
 */
export function channelOf(schema: string): string {
  const channel = `model_manager.${schema}`;
  if (Buffer.byteLength(channel) <= MAX_CHANNEL_BYTES) return channel;
  return `model_manager.${createHash('sha256').update(schema).digest('hex').slice(0, 48)}`;
}

/** An SQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the schema, or brings an older one up to date, in one transaction and one opener at a
 * time (an advisory lock). A schema of another program or of a newer release is refused untouched.
 */
export async function migrate(client: pg.ClientBase, schema: string, where: string): Promise<void> {
  const quoted = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`model-manager:${schema}`]);
    const current = await installedVersion(client, schema, where);
    if (current > SCHEMA_VERSION) {
      throw new ModelManagerError('STORE_TOO_NEW', `the registry in schema "${schema}" at ${where} has schema version ${current}, newer than this Model Manager knows (${SCHEMA_VERSION}); it was left untouched. Upgrade Model Manager.`, {
        details: { schema, version: current, known: SCHEMA_VERSION },
      });
    }
    if (current < SCHEMA_VERSION) {
      if (current === 0) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.mm_meta (key text PRIMARY KEY, value text NOT NULL)`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.mm_schema_migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        await client.query(`INSERT INTO ${quoted}.mm_meta (key, value) VALUES ('app', $1) ON CONFLICT DO NOTHING`, [APP_MARK]);
      }
      for (const m of MIGRATIONS.filter((m) => m.version > current)) {
        await client.query(m.sql(quoted));
        await m.run?.(client, quoted);
        await client.query(`INSERT INTO ${quoted}.mm_schema_migrations (version, description) VALUES ($1, $2)`, [m.version, m.description]);
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The schema version installed: 0 for none (no schema, or an empty one). @throws STORE_FOREIGN for a schema of another program */
async function installedVersion(client: pg.ClientBase, schema: string, where: string): Promise<number> {
  const tables = (await client.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]))
    .rows.map((r) => r.name);
  if (tables.length === 0) return 0;
  const mark = tables.includes('mm_meta')
    ? (await client.query<{ value: string }>(`SELECT value FROM ${quoteIdent(schema)}.mm_meta WHERE key = 'app'`)).rows[0]?.value
    : undefined;
  if (mark !== APP_MARK || !tables.includes('mm_schema_migrations')) {
    throw new ModelManagerError('STORE_FOREIGN', `schema "${schema}" at ${where} holds tables of another program (${tables.slice(0, 5).join(', ')}); it was left untouched. Name another schema with ?schema= in the URL.`, {
      details: { schema, tables: tables.slice(0, 10) },
    });
  }
  const row = (await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoteIdent(schema)}.mm_schema_migrations`)).rows[0];
  return row?.v ?? 0;
}
