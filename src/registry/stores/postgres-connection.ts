/**
 * The PostgreSQL store's connections: the URL (with our `schema` parameter), a pool of
 * node-postgres clients, transactions, and what a driver failure becomes.
 *
 * A lost connection is STORE_IO, and never the end of the pool: a broken client is dropped, so
 * the next call connects anew. Reads and a transaction's BEGIN, which changed nothing yet, are
 * retried once on a fresh connection; deadlocks and serialisation failures are retried whole.
 */
import pg from 'pg';
import { isPostgresUrl } from '../../config.js';
import { ModelManagerError } from '../../errors.js';

/** The schema a registry lives in when the URL names none. */
export const DEFAULT_SCHEMA = 'model_manager';

export interface PostgresTarget {
  /** What node-postgres connects with: the URL without our own `schema` parameter. */
  connectionString: string;
  schema: string;
  /** The URL without its password, for messages and `store.location`. */
  display: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Splits `postgres://user:pw@host:port/db?schema=name&...` into what node-postgres takes and our
 * schema. An empty URL part falls back to the `PG*` variables, as psql does.
 * @throws INVALID_CONFIG for something that is no postgres:// URL or a bad schema name
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  const trimmed = url.trim();
  if (!isPostgresUrl(trimmed)) {
    throw new ModelManagerError('INVALID_CONFIG', `the postgres store takes a postgres:// URL (e.g. postgres://user@host:5432/db?schema=model_manager), not "${url}"`, {
      details: { db: url },
    });
  }
  const at = trimmed.indexOf('?');
  const params = new URLSearchParams(at < 0 ? '' : trimmed.slice(at + 1));
  const schema = params.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) {
    throw new ModelManagerError('INVALID_CONFIG', `schema "${schema}" in the postgres URL is not a plain name: use letters, digits and _ (at most 63)`, {
      details: { schema },
    });
  }
  params.delete('schema');
  const base = at < 0 ? trimmed : trimmed.slice(0, at);
  const rest = params.toString();
  const connectionString = rest ? `${base}?${rest}` : base;
  const display = `${base.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/i, '$1:***@')}?schema=${schema}`;
  return { connectionString, schema, display };
}

const LOST_CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now
  '57P01', '57P02', '57P03',
]);
const LOST_CONNECTION_MESSAGE = /connection terminated|connection ended|client has encountered a connection error|timeout exceeded when trying to connect|client was closed/i;

/** A driver error of a connection that is gone (the server, the network, or a terminated backend). */
export function isConnectionLoss(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (LOST_CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && LOST_CONNECTION_MESSAGE.test(message);
}

/** Deadlock or serialisation failure: the transaction did nothing and may simply run again. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

/** The SQLSTATE of a server error, e.g. `23505`. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** What a driver failure becomes: ModelManagerErrors pass as they are, the rest is STORE_IO naming what was under way. */
export function storeIoError(error: unknown, what: string, where: string): ModelManagerError {
  if (error instanceof ModelManagerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const details = { db: where, sqlState: sqlState(error) };
  if (isConnectionLoss(error)) {
    return new ModelManagerError('STORE_IO', `lost the connection to PostgreSQL at ${where} while ${what} (${message}); nothing of this call was committed unless the server had its COMMIT. The next call reconnects.`, { cause: error, details });
  }
  return new ModelManagerError('STORE_IO', `PostgreSQL at ${where} failed while ${what}: ${message}`, { cause: error, details });
}

const TRANSIENT_RETRIES = 8;

export interface QueryOptions {
  /** A read, safe to send again on a fresh connection when the first one turns out to be gone. Defaults to false. */
  idempotent?: boolean;
}

/** A pool of connections to one registry's database, with errors mapped for the store. */
export class PostgresPool {
  readonly target: PostgresTarget;
  readonly #pool: pg.Pool;
  /** Calls under way: `end` waits for them (a pool that ends leaves a waiting call unanswered forever). */
  readonly #inFlight = new Set<Promise<unknown>>();
  /**
   * How many times a call may meet a dead connection before it gives up: once per pooled
   * connection, since a server restart kills every idle one and the pool may hand each of them
   * out before their errors arrive (each one found dead is destroyed, so the next try gets another).
   */
  readonly #lostRetries: number;

  constructor(target: PostgresTarget, { max = 10 }: { max?: number } = {}) {
    this.target = target;
    this.#lostRetries = max;
    this.#pool = new pg.Pool({
      connectionString: target.connectionString, max, application_name: 'model-manager', connectionTimeoutMillis: 15_000, idleTimeoutMillis: 30_000,
    });
    // An idle client whose connection dies is dropped by the pool; without a listener its error would end the process.
    this.#pool.on('error', () => undefined);
    // A checked-out client's error event is reported again by its next query, which the caller sees.
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** The client config, for a connection of its own (LISTEN). */
  get clientConfig(): pg.ClientConfig {
    return { connectionString: this.target.connectionString, application_name: 'model-manager', connectionTimeoutMillis: 15_000 };
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Runs one statement (autocommit). */
  query<R extends pg.QueryResultRow>(what: string, sql: string, values: unknown[] = [], options: QueryOptions = {}): Promise<pg.QueryResult<R>> {
    return this.#track(this.#query<R>(what, sql, values, options));
  }

  async #query<R extends pg.QueryResultRow>(what: string, sql: string, values: unknown[], { idempotent = false }: QueryOptions): Promise<pg.QueryResult<R>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#pool.query<R>(sql, values);
      } catch (error) {
        const again = (isTransient(error) && attempt < TRANSIENT_RETRIES) || (idempotent && isConnectionLoss(error) && attempt < this.#lostRetries);
        if (!again) throw storeIoError(error, what, this.target.display);
      }
    }
  }

  /** Runs `work` in one transaction: committed whole or not at all. */
  transaction<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#track(this.#transaction(what, work));
  }

  async #transaction<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient | undefined;
      let began = false;
      try {
        client = await this.#pool.connect();
        await client.query('BEGIN');
        began = true;
        const result = await work(client);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        const lost = isConnectionLoss(error);
        if (client) {
          if (began && !lost) await client.query('ROLLBACK').catch(() => undefined);
          // release(error) destroys the client: a connection that may be broken never goes back to the pool.
          client.release(lost ? (error as Error) : undefined);
        }
        // Nothing was done before BEGIN succeeded, so a dead connection there costs only a retry.
        const again = (isTransient(error) && attempt < TRANSIENT_RETRIES) || (lost && !began && attempt < this.#lostRetries);
        if (!again) throw storeIoError(error, what, this.target.display);
      }
    }
  }

  /** Runs `work` on one client outside any transaction it does not open itself. */
  withClient<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#track(this.#withClient(what, work));
  }

  async #withClient<T>(what: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      const result = await work(client);
      client.release();
      return result;
    } catch (error) {
      client?.release(isConnectionLoss(error) ? (error as Error) : undefined);
      throw storeIoError(error, what, this.target.display);
    }
  }

  /** Closes every connection once the calls under way are answered. */
  async end(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#pool.end();
  }
}
