/**
 * The API keys of the servers sharing a postgres registry, in its `api_keys` table: the records
 * a keys file holds (the SHA-256 of each key, never the key), one row each. Every write NOTIFYs
 * `keys` on the registry's channel in its own transaction, so a server hears of exactly the
 * writes that committed and reads the table again (see ApiKeys.follow).
 */
import type { ApiKeyRecord, ApiKeyStore } from '../api-key-records.js';
import type { PostgresPool } from './postgres-connection.js';
import type { ChannelNotice } from './postgres-listener.js';

interface KeyRow {
  id: string;
  user_name: string;
  role: ApiKeyRecord['role'];
  groups: string[];
  hash: string;
  created_at: string;
  rate_limit_per_minute: number | null;
}

const KEYS_NOTICE = JSON.stringify({ op: 'keys' } satisfies ChannelNotice);

export class PostgresKeys implements ApiKeyStore {
  readonly location: string;
  readonly #pool: PostgresPool;
  readonly #s: string;
  readonly #channel: string;
  readonly #subscribe: (listener: (notice: ChannelNotice) => void) => () => void;

  /** `subscribe` listens on `channel`, the registry's, over the store's one LISTEN connection. */
  constructor(pool: PostgresPool, quotedSchema: string, channel: string, subscribe: (listener: (notice: ChannelNotice) => void) => () => void) {
    this.#pool = pool;
    this.#s = quotedSchema;
    this.#channel = channel;
    this.#subscribe = subscribe;
    this.location = pool.target.display;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const { rows } = await this.#pool.query<KeyRow>('reading the API keys',
      `SELECT id, user_name, role, groups, hash, created_at, rate_limit_per_minute FROM ${this.#s}.api_keys ORDER BY created_at, id`, [], { idempotent: true });
    return rows.map((r) => ({
      id: r.id, user: r.user_name, role: r.role, groups: r.groups, hash: r.hash, createdAt: r.created_at,
      ...(r.rate_limit_per_minute === null ? {} : { rateLimitPerMinute: r.rate_limit_per_minute }),
    }));
  }

  async add(record: ApiKeyRecord): Promise<void> {
    await this.#pool.transaction('adding an API key', async (c) => {
      await c.query(`INSERT INTO ${this.#s}.api_keys (id, user_name, role, groups, hash, created_at, rate_limit_per_minute) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [record.id, record.user, record.role, record.groups, record.hash, record.createdAt, record.rateLimitPerMinute ?? null]);
      await c.query('SELECT pg_notify($1, $2)', [this.#channel, KEYS_NOTICE]);
    });
  }

  async remove(idOrUser: string): Promise<number> {
    return this.#pool.transaction('removing API keys', async (c) => {
      const { rowCount } = await c.query(`DELETE FROM ${this.#s}.api_keys WHERE id = $1 OR user_name = $1`, [idOrUser]);
      if (rowCount) await c.query('SELECT pg_notify($1, $2)', [this.#channel, KEYS_NOTICE]);
      return rowCount ?? 0;
    });
  }

  watch(onChange: () => void): () => void {
    return this.#subscribe((notice) => {
      if (notice.op === 'keys' || notice.op === 'resync') onChange();
    });
  }
}
