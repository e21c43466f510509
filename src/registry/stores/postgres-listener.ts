/**
 * LISTEN on a registry's change channel over a connection of its own, reconnecting (with
 * backoff) when it is lost; each (re)connection is reported as a `resync`, since changes made
 * while no connection listened were missed. One channel (and one connection per server) carries
 * both the registry's changes and `keys` (the API keys table changed: see postgres-keys.ts).
 */
import pg from 'pg';
import type { RegistryChange } from './store.js';
import { quoteIdent } from './postgres-schema.js';

/** What the channel carries: a change to the models, a `resync`, or `keys`. */
export type ChannelNotice = RegistryChange | { op: 'keys' };

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class PostgresListener {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #listeners = new Set<(notice: ChannelNotice) => void>();
  #client: pg.Client | undefined;
  #connecting = false;
  #retryMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: pg.ClientConfig, channel: string) {
    this.#config = config;
    this.#channel = channel;
  }

  /** Adds a listener (connecting on the first); returns what removes it. */
  subscribe(listener: (notice: ChannelNotice) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#client && !this.#connecting && !this.#timer) void this.#connect();
    return () => this.#listeners.delete(listener);
  }

  #emit(notice: ChannelNotice): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(notice);
      } catch {
        // One listener's failure is its own; the others still hear of the change.
      }
    }
  }

  async #connect(): Promise<void> {
    this.#timer = undefined;
    if (this.#closed) return;
    this.#connecting = true;
    const client = new pg.Client(this.#config);
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (message) => {
      if (message.channel !== this.#channel || !message.payload) return;
      try {
        const notice = JSON.parse(message.payload) as ChannelNotice;
        this.#emit(notice.op === 'keys' ? { op: 'keys' } : { op: notice.op, count: notice.count, modelIds: notice.modelIds });
      } catch {
        // Not one of ours (someone else NOTIFYing on the channel): nothing to report.
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.#channel)}`);
      if (this.#closed) {
        await client.end();
        return;
      }
      this.#client = client;
      this.#retryMs = FIRST_RETRY_MS;
      this.#emit({ op: 'resync', count: 0, modelIds: [] });
    } catch {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.#retry();
    } finally {
      this.#connecting = false;
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    this.#retry();
  }

  #retry(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
