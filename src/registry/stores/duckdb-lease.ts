/**
 * Shared, short-lived access to one DuckDB file.
 *
 * DuckDB lets only one process open a file read-write, and a second open in the same process would
 * bypass the file lock, so every store of this process on one file shares one DuckDbFile. It opens
 * the database for a burst of work and closes it when idle, or between two operations as soon as
 * another process asks for it: a process kept out touches `<file>.waiting` while it retries.
 * Closing drops DuckDB's buffer cache, so a holder nobody waits for keeps the file open.
 */
import { statSync, unlinkSync, writeFileSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ModelManagerError } from '../../errors.js';

export interface DuckDbLeaseOptions {
  /** How long to keep retrying while another process holds the file. Defaults to 30000 ms. */
  lockTimeoutMs?: number;
  /** Close the file after this long without work. Defaults to 50 ms. */
  idleMs?: number;
  /** Hold the file at least this long before handing it to a waiting process. Defaults to 1000 ms. */
  minHoldMs?: number;
}

// A waiting mark older than this is left by a process that gave up or died.
const WAITING_FRESH_MS = 1_000;

const waitingMark = (path: string) => `${path}.waiting`;

/** Removes the waiting mark once we got in or gave up; another waiter touches it again on its next try. */
function removeWaitingMark(path: string): void {
  try {
    unlinkSync(waitingMark(path));
  } catch {
    // already gone
  }
}

/** True when another process touched the waiting mark recently. */
function someoneWaits(path: string): boolean {
  try {
    return Date.now() - statSync(waitingMark(path)).mtimeMs < WAITING_FRESH_MS;
  } catch {
    return false;
  }
}

/** Never fetch extensions: the registry must work offline, and sql() must not reach out. */
export const NO_NETWORK: Record<string, string> = { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** DuckDB's message when another process holds the file. */
export function isLockConflict(error: unknown): boolean {
  return error instanceof Error && /could not set lock on file|conflicting lock/i.test(error.message);
}

/**
 * Opens a DuckDB file, retrying while another process holds it.
 * @throws ModelManagerError STORE_LOCKED after `lockTimeoutMs`; other open errors are rethrown as they are.
 */
export async function openWithRetry(path: string, options: Record<string, string>, lockTimeoutMs: number): Promise<DuckDBInstance> {
  const deadline = Date.now() + lockTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const instance = await DuckDBInstance.create(path, { ...NO_NETWORK, ...options });
      if (attempt > 0) removeWaitingMark(path);
      return instance;
    } catch (error) {
      if (!isLockConflict(error)) throw error;
      try {
        writeFileSync(waitingMark(path), String(process.pid));
      } catch {
        // a read-only folder: the holder will still let go when idle
      }
      if (Date.now() >= deadline) {
        removeWaitingMark(path);
        throw new ModelManagerError('STORE_LOCKED', `the DuckDB registry ${path} is held by another process (${(error as Error).message.split('\n')[0]}); try again when it is done`, {
          details: { path },
          cause: error,
        });
      }
      // Short, jittered waits: the holder lets go at its next operation's end, or when idle.
      await sleep(Math.min(2 * 1.5 ** attempt, 25) * (0.5 + Math.random()));
    }
  }
}

const files = new Map<string, DuckDbFile>();

export class DuckDbFile {
  #users = 1;
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #heldSince = 0;
  #reopenAfter = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  readonly #lockTimeoutMs: number;
  readonly #idleMs: number;
  readonly #minHoldMs: number;

  private constructor(
    readonly path: string,
    { lockTimeoutMs = 30_000, idleMs = 50, minHoldMs = 1000 }: DuckDbLeaseOptions,
  ) {
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#idleMs = idleMs;
    this.#minHoldMs = minHoldMs;
  }

  /** The shared handle of `path` in this process; release it with `release()`. */
  static acquire(path: string, options: DuckDbLeaseOptions = {}): DuckDbFile {
    const existing = files.get(path);
    if (existing) {
      existing.#users += 1;
      return existing;
    }
    const file = new DuckDbFile(path, options);
    files.set(path, file);
    return file;
  }

  /** Runs `work` with the file open, after the work queued before it. */
  run<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    this.#pending += 1;
    const result = this.#queue.then(async () => {
      clearTimeout(this.#idleTimer);
      try {
        return await work(await this.#open());
      } finally {
        this.#pending -= 1;
        await this.#afterWork();
      }
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #open(): Promise<DuckDBConnection> {
    if (this.#connection) return this.#connection;
    const wait = this.#reopenAfter - Date.now();
    if (wait > 0) await sleep(wait);
    const instance = await openWithRetry(this.path, NO_NETWORK, this.#lockTimeoutMs);
    try {
      const connection = await instance.connect();
      this.#instance = instance;
      this.#connection = connection;
      this.#heldSince = Date.now();
      return connection;
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  async #afterWork(): Promise<void> {
    if (!this.#connection) return;
    if (Date.now() - this.#heldSince >= this.#minHoldMs && someoneWaits(this.path)) {
      this.#shut();
      // Step aside a moment, so the waiting process (polling every few ms) takes the file before we reopen it.
      this.#reopenAfter = Date.now() + 50;
    } else if (this.#pending === 0) {
      this.#idleTimer = setTimeout(() => {
        if (this.#pending === 0) this.#shut();
      }, this.#idleMs);
      this.#idleTimer.unref();
    }
  }

  #shut(): void {
    clearTimeout(this.#idleTimer);
    this.#connection?.closeSync();
    this.#instance?.closeSync();
    this.#connection = undefined;
    this.#instance = undefined;
  }

  /** Drops one user; the last one closes the file once queued work is done. */
  async release(): Promise<void> {
    this.#users -= 1;
    if (this.#users > 0) return;
    files.delete(this.path);
    await this.#queue;
    this.#shut();
  }
}
