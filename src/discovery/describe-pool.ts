/**
 * Header reading spread over worker threads. A cold scan of thousands of models is CPU-bound
 * (JSON headers, GGUF vocabularies, front matter), so the reads run in workers while the main
 * thread walks the folders, categorises and sizes what the workers found, chooses ids and writes
 * to the registry.
 *
 * Every model is posted to every worker as soon as it is found, and a shared counter
 * (`Atomics.compareExchange` on a SharedArrayBuffer) hands out the next unread one to whichever
 * worker asks first. A worker never waits on the main thread for work: when workers were sent
 * batches on demand, a worker sat idle whenever the main thread was busy writing a batch of new
 * models to the registry (10-30% of a 10,000-model scan, measured). Workers post outcomes back
 * in small batches so a message costs little next to the work it carries.
 *
 * The main thread does not read headers itself while workers run. It used to take queued models
 * when idle, but it is rarely idle in a large scan (it took ~2% of 10,000 models), and reading
 * even a few compiles the reading code a second time, in its own isolate. Without it a
 * 10,000-model scan took less CPU in 8 of 11 alternating runs (medians 9.6 against 10.0 s), and
 * a 1,500-model GGUF-only scan, where the worker is the bottleneck, was no slower (2 cores).
 *
 * By default there is one worker fewer than cores, since the main thread is busy too: each worker
 * also costs its own module loading, JIT compilation and heap to collect. `grow()` adds one while
 * reading (the scan does when its main thread sits idle waiting for headers: reads from a cold
 * disk); it is handed the models no worker has taken yet.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelManagerError, toModelManagerError, type ErrorCode } from '../errors.js';
import { readFindings, type Findings } from './read-findings.js';
import type { ModelUnit, ScanWarning } from './types.js';

export interface DescribeWorkerData {
  /** One Int32: the index of the next model no thread has taken yet. */
  next: SharedArrayBuffer;
}

/** Main thread to worker: the models found since the last message, in order (the first is model `from`). */
export interface UnitsMessage {
  from: number;
  units: ModelUnit[];
}

/** Worker to main thread: outcomes by model index. */
export interface OutcomesMessage {
  outcomes: [number, DescribeOutcome][];
}

/**
 * Takes the next model below `available` for the calling worker: its index, or -1 when every
 * model found so far is taken.
 */
export function takeNext(next: Int32Array, available: number): number {
  for (;;) {
    const i = Atomics.load(next, 0);
    if (i >= available) return -1;
    if (Atomics.compareExchange(next, 0, i, i + 1) === i) return i;
  }
}

/** What a worker tells of one model: what its files say or why they could not be read, and the warnings of its side files. */
export type DescribeOutcome =
  | { findings: Findings; warnings: ScanWarning[] }
  | { error: { code: ErrorCode; message: string; path?: string }; warnings: ScanWarning[] };

interface Pending {
  resolve: (outcome: DescribeOutcome) => void;
  reject: (error: Error) => void;
}

export interface DescribePoolOptions {
  /** Worker threads. Defaults to one fewer than `os.availableParallelism()`, at least 1. */
  workers?: number;
  /** Most worker threads `grow()` adds up to. Defaults to `workers`, at least 4. */
  maxWorkers?: number;
}

/** Reads one model (in a worker): its findings and side-file warnings, or why it could not be read. */
export async function describeOutcome(unit: ModelUnit): Promise<DescribeOutcome> {
  const warnings: ScanWarning[] = [];
  try {
    return { findings: await readFindings(unit, (path, reason) => warnings.push({ path, reason })), warnings };
  } catch (error) {
    const err = toModelManagerError(error);
    const path = typeof err.details.path === 'string' ? err.details.path : undefined;
    return { error: { code: err.code, message: err.message, ...(path === undefined ? {} : { path }) }, warnings };
  }
}

/** Worker threads that read models' headers; `close()` (or `await using`) ends them. */
export class DescribePool implements AsyncDisposable {
  readonly #workers: Worker[] = [];
  readonly #maxWorkers: number;
  readonly #next = new Int32Array(new SharedArrayBuffer(4));
  /** Every model given to the pool, by index. */
  readonly #units: ModelUnit[] = [];
  /** Their waiters, by index; cleared once settled. */
  readonly #pending: (Pending | undefined)[] = [];
  /** Models given but not posted to the workers yet (posted together on the next turn). */
  #unposted = 0;
  #postScheduled = false;
  #closed = false;

  constructor({ workers = availableParallelism() - 1, maxWorkers = Math.max(workers, 4) }: DescribePoolOptions = {}) {
    this.#maxWorkers = maxWorkers;
    for (let k = 0; k < Math.max(1, workers); k++) this.#start();
  }

  /** Worker threads now. */
  get workers(): number {
    return this.#workers.length;
  }

  /**
   * Adds a worker, up to `maxWorkers`; false when there are that many (or none is left to add
   * to). For reads that wait on the disk (a cache-cold scan) rather than on a core.
   */
  grow(): boolean {
    if (this.#closed || this.#workers.length === 0 || this.#workers.length >= this.#maxWorkers) return false;
    const worker = this.#start();
    // The models no thread has taken yet; those given later come with the next post.
    const from = Math.min(Atomics.load(this.#next, 0), this.#units.length);
    worker.postMessage({ from, units: this.#units.slice(from) } satisfies UnitsMessage);
    return true;
  }

  #start(): Worker {
    const workerData: DescribeWorkerData = { next: this.#next.buffer as SharedArrayBuffer };
    const worker = new Worker(new URL('./describe-worker.js', import.meta.url), { workerData });
    worker.on('message', ({ outcomes }: OutcomesMessage) => {
      for (const [i, outcome] of outcomes) this.#settle(i)?.resolve(outcome);
    });
    worker.on('error', (error) => this.#fail(worker, new ModelManagerError('INTERNAL', `header reader thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(worker, new ModelManagerError('INTERNAL', `header reader thread exited (code ${code})`));
    });
    this.#workers.push(worker);
    return worker;
  }

  /** Reads one model's headers in a worker; resolves with what the worker could tell. */
  describe(unit: ModelUnit): Promise<DescribeOutcome> {
    if (this.#closed || this.#workers.length === 0) return Promise.reject(new ModelManagerError('INTERNAL', 'the header reader threads are closed'));
    return new Promise((resolve, reject) => {
      this.#units.push(unit);
      this.#pending.push({ resolve, reject });
      this.#unposted += 1;
      // The models found in this turn go to the workers together, in one message each.
      if (!this.#postScheduled) {
        this.#postScheduled = true;
        setImmediate(() => this.#post());
      }
    });
  }

  #post(): void {
    this.#postScheduled = false;
    // With every worker gone, the models given meanwhile were refused already (`#fail`).
    if (this.#closed || this.#workers.length === 0 || this.#unposted === 0) return;
    const from = this.#pending.length - this.#unposted;
    const units = this.#units.slice(from);
    this.#unposted = 0;
    for (const worker of this.#workers) worker.postMessage({ from, units } satisfies UnitsMessage);
  }

  /** The model's waiter, removed so it is settled once; undefined when it already was. */
  #settle(i: number): Pending | undefined {
    const pending = this.#pending[i];
    this.#pending[i] = undefined;
    return pending;
  }

  /**
   * A worker ended early: models taken by workers and not answered yet are refused (their
   * readers read them on the main thread instead); with no worker left, so is everything else.
   */
  #fail(worker: Worker, error: Error): void {
    const at = this.#workers.indexOf(worker);
    if (at < 0) return; // 'error' is followed by 'exit'
    this.#workers.splice(at, 1);
    if (this.#workers.length === 0) Atomics.store(this.#next, 0, this.#pending.length);
    const taken = Math.min(Atomics.load(this.#next, 0), this.#pending.length);
    for (let i = 0; i < taken; i++) this.#settle(i)?.reject(error);
  }

  /** Ends the workers; models still waiting are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new ModelManagerError('INTERNAL', 'the header reader threads were closed');
    for (let i = 0; i < this.#pending.length; i++) this.#settle(i)?.reject(closed);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** What a worker's outcome tells, or the error it stood for (thrown as the in-thread read would have thrown it). */
export function describedBy(outcome: DescribeOutcome, warn: (path: string, reason: string) => void): Findings {
  for (const w of outcome.warnings) warn(w.path, w.reason);
  if ('error' in outcome) {
    const { code, message, path } = outcome.error;
    throw new ModelManagerError(code, message, { details: path === undefined ? {} : { path } });
  }
  return outcome.findings;
}
