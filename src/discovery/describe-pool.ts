/**
 * Header reading spread over worker threads. A cold scan of thousands of models is CPU-bound
 * (JSON headers, GGUF vocabularies, front matter), so the reads run in workers while the main
 * thread keeps choosing ids and writing to the registry, and reads models still queued
 * whenever it has nothing else to do (`takeQueued`). Models go to the workers in small batches
 * so a message costs little next to the work it carries.
 *
 * The main thread is busy for a share of the scan, so by default there is one worker fewer than
 * cores: each worker also costs its own module loading, JIT compilation and heap to collect
 * (~1 s of CPU per worker in a 10,000-model scan, measured on 2 cores).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelManagerError, toModelManagerError, type ErrorCode } from '../errors.js';
import { describeUnit, type Description } from './describe.js';
import { WarningSink } from './fs-scan.js';
import type { CategorizationRules } from './rules.js';
import type { ModelUnit, ScanWarning } from './types.js';
import { changedSince } from './walk.js';

export interface DescribeWorkerData {
  rules: CategorizationRules;
}

export interface DescribeBatch {
  id: number;
  units: ModelUnit[];
}

/** A model's description, and the first of its files that changed while it was read (stat-ed again after the read). */
export interface Described {
  description: Description;
  moved?: string;
}

/** What a worker tells of one model: its description or why it could not be read, and the warnings of its side files. */
export type DescribeOutcome =
  | (Described & { warnings: ScanWarning[] })
  | { error: { code: ErrorCode; message: string; path?: string }; warnings: ScanWarning[] };

interface Pending {
  unit: ModelUnit;
  resolve: (outcome: DescribeOutcome) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending[]>;
}

const BATCH = 16;
/** Batches a worker holds at once, so it keeps reading while the main thread writes a batch of new models to the registry. */
const BATCHES_PER_WORKER = 8;

export interface DescribePoolOptions {
  /** Worker threads. Defaults to one fewer than `os.availableParallelism()`, at least 1. */
  workers?: number;
}

/** Reads one model as a worker does: its description and side-file warnings, or why it could not be read. */
export async function describeOutcome(unit: ModelUnit, rules: CategorizationRules): Promise<DescribeOutcome> {
  const warnings: ScanWarning[] = [];
  try {
    const description = await describeUnit(unit, rules, (path, reason) => warnings.push({ path, reason }));
    const moved = changedSince(unit, new WarningSink())[0];
    return { description, warnings, ...(moved === undefined ? {} : { moved }) };
  } catch (error) {
    const err = toModelManagerError(error);
    const path = typeof err.details.path === 'string' ? err.details.path : undefined;
    return { error: { code: err.code, message: err.message, ...(path === undefined ? {} : { path }) }, warnings };
  }
}

/** Worker threads that read models' headers; `close()` (or `await using`) ends them. */
export class DescribePool implements AsyncDisposable {
  readonly #slots: Slot[];
  readonly #queue: Pending[] = [];
  #nextId = 0;
  #pumpScheduled = false;
  #closed = false;

  constructor(rules: CategorizationRules, { workers = availableParallelism() - 1 }: DescribePoolOptions = {}) {
    const workerData: DescribeWorkerData = { rules };
    this.#slots = Array.from({ length: Math.max(1, workers) }, () => {
      const slot: Slot = { worker: new Worker(new URL('./describe-worker.js', import.meta.url), { workerData }), inFlight: new Map() };
      const fail = (error: Error) => {
        const at = this.#slots.indexOf(slot);
        if (at < 0) return; // 'error' is followed by 'exit'
        this.#slots.splice(at, 1);
        for (const batch of slot.inFlight.values()) for (const p of batch) p.reject(error);
        slot.inFlight.clear();
        if (this.#slots.length === 0) for (const p of this.#queue.splice(0)) p.reject(error);
        else this.#pump();
      };
      slot.worker.on('message', ({ id, outcomes }: { id: number; outcomes: DescribeOutcome[] }) => {
        const batch = slot.inFlight.get(id) ?? [];
        slot.inFlight.delete(id);
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
        this.#pump();
      });
      slot.worker.on('error', (error) => fail(new ModelManagerError('INTERNAL', `header reader thread failed: ${error.message}`, { cause: error })));
      slot.worker.on('exit', (code) => {
        if (!this.#closed) fail(new ModelManagerError('INTERNAL', `header reader thread exited (code ${code})`));
      });
      return slot;
    });
  }

  /** Reads one model's headers in a worker; resolves with what the worker could tell. */
  describe(unit: ModelUnit): Promise<DescribeOutcome> {
    if (this.#closed || this.#slots.length === 0) return Promise.reject(new ModelManagerError('INTERNAL', 'the header reader threads are closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ unit, resolve, reject });
      // Full batches go at once; a partial one waits for the callers of this turn to add theirs.
      if (this.#queue.length >= BATCH) this.#pump();
      else if (!this.#pumpScheduled) {
        this.#pumpScheduled = true;
        setImmediate(() => {
          this.#pumpScheduled = false;
          this.#pump();
        });
      }
    });
  }

  /**
   * The next model no worker has been sent yet, for the caller to read itself (with
   * `describeOutcome`) and settle; undefined when none is waiting. The main thread calls this
   * when it is otherwise idle, so a scan uses its time too.
   */
  takeQueued(): { unit: ModelUnit; settle: (outcome: DescribeOutcome) => void } | undefined {
    const pending = this.#queue.shift();
    return pending && { unit: pending.unit, settle: pending.resolve };
  }

  #pump(): void {
    for (;;) {
      const slot = this.#slots.filter((s) => s.inFlight.size < BATCHES_PER_WORKER).sort((a, b) => a.inFlight.size - b.inFlight.size)[0];
      if (!slot || this.#queue.length === 0) return;
      const batch = this.#queue.splice(0, BATCH);
      const id = this.#nextId++;
      slot.inFlight.set(id, batch);
      slot.worker.postMessage({ id, units: batch.map((p) => p.unit) } satisfies DescribeBatch);
    }
  }

  /** Ends the workers; models still waiting are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new ModelManagerError('INTERNAL', 'the header reader threads were closed');
    for (const p of this.#queue.splice(0)) p.reject(closed);
    for (const slot of this.#slots) for (const batch of slot.inFlight.values()) for (const p of batch) p.reject(closed);
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** What a worker's outcome tells, or the error it stood for (thrown as the in-thread read would have thrown it). */
export function describedBy(outcome: DescribeOutcome, warn: (path: string, reason: string) => void): Described {
  for (const w of outcome.warnings) warn(w.path, w.reason);
  if ('error' in outcome) {
    const { code, message, path } = outcome.error;
    throw new ModelManagerError(code, message, { details: path === undefined ? {} : { path } });
  }
  return { description: outcome.description, ...(outcome.moved === undefined ? {} : { moved: outcome.moved }) };
}
