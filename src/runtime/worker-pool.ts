/**
 * The instances serving one model, and the queue in front of them.
 *
 * Work is pulled: an idle instance takes the next job, so the least busy instance always gets
 * it and nothing piles up behind a slow one. Embedding jobs that wait together are merged into
 * one call (dynamic batching): requests arriving in the same turn of the event loop (or within
 * `maxWaitMs`) and requests that queued while every instance was busy go out in batches of at
 * most `maxBatchSize` texts, cut from the waiting requests sorted by text length.
 */
import { ModelManagerError } from '../errors.js';
import type { EmbeddingParams, LoadedModel } from './backends/backend.js';
import { cancelled } from './cancellation.js';
import { embeddingParamsKey } from './task-input.js';

export interface BatchingOptions {
  /** Most texts in one backend call. Defaults to 16. */
  maxBatchSize?: number;
  /** How long the first waiting request waits for others while an instance is free. 0 = one event-loop turn. Defaults to 0. */
  maxWaitMs?: number;
}

/** What one caller asks of its job besides the work itself. */
export interface JobOptions {
  /** Aborting it while the job waits takes the job out of the queue (it fails with CANCELLED). */
  signal?: AbortSignal;
  /** Called when an instance takes the job. */
  onStart?: () => void;
}

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  /** Called when an instance takes the job. */
  started?: () => void;
}

type Job =
  | ({ kind: 'run'; fn: (model: LoadedModel) => Promise<unknown> } & Deferred<unknown>)
  | ({ kind: 'embed'; texts: readonly string[]; params: EmbeddingParams; paramsKey: string } & Deferred<number[][]>);
type EmbedJob = Extract<Job, { kind: 'embed' }>;

interface Worker {
  readonly model: LoadedModel;
  busy: boolean;
}

export class WorkerPool {
  readonly #workers: Worker[];
  readonly #queue: Job[] = [];
  readonly #maxBatchSize: number;
  readonly #maxWaitMs: number;
  #next = 0;
  #gathering: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #gatheringMs = 0;
  #idleWaiters: (() => void)[] = [];
  /** Backend calls made and texts embedded, for the status page and throughput. */
  calls = 0;
  batchedTexts = 0;

  constructor(models: readonly LoadedModel[], { maxBatchSize = 16, maxWaitMs = 0 }: BatchingOptions = {}) {
    this.#workers = models.map((model) => ({ model, busy: false }));
    this.#maxBatchSize = Math.max(1, maxBatchSize);
    this.#maxWaitMs = Math.max(0, maxWaitMs);
  }

  get instances(): readonly LoadedModel[] {
    return this.#workers.map((w) => w.model);
  }

  /** Jobs waiting for an instance. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Instances working right now. */
  get active(): number {
    return this.#workers.filter((w) => w.busy).length;
  }

  /** Runs `fn` on the next free instance. */
  run<T>(fn: (model: LoadedModel) => Promise<T>, options: JobOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.#enqueue({ kind: 'run', fn, resolve: resolve as (v: unknown) => void, reject }, options)) return;
      this.#drain();
    });
  }

  /** Embeds `texts`, merged with other waiting requests of the same parameters; more than a batch go in several. */
  embed(texts: readonly string[], params: EmbeddingParams, options: JobOptions = {}): Promise<number[][]> {
    if (texts.length > this.#maxBatchSize) {
      const parts: Promise<number[][]>[] = [];
      for (let i = 0; i < texts.length; i += this.#maxBatchSize) parts.push(this.embed(texts.slice(i, i + this.#maxBatchSize), params, options));
      return Promise.all(parts).then((vectors) => vectors.flat());
    }
    return new Promise<number[][]>((resolve, reject) => {
      if (!this.#enqueue({ kind: 'embed', texts, params, paramsKey: embeddingParamsKey(params), resolve, reject }, options)) return;
      // A full batch need not wait out maxWaitMs, but it still waits for the turn to end: the
      // requests arriving with it are then sorted into batches together.
      this.#gather(this.#waitingTexts() >= this.#maxBatchSize);
    });
  }

  /** Queues `job`, to leave the queue if its signal aborts first; false when it already has. */
  #enqueue(job: Job, { signal, onStart }: JobOptions): boolean {
    if (signal?.aborted) {
      job.reject(cancelled());
      return false;
    }
    if (signal) {
      const leave = () => {
        const at = this.#queue.indexOf(job);
        if (at < 0) return;
        this.#queue.splice(at, 1);
        job.reject(cancelled());
        this.#notifyIdle();
      };
      signal.addEventListener('abort', leave, { once: true });
      job.started = () => {
        signal.removeEventListener('abort', leave);
        onStart?.();
      };
    } else if (onStart) {
      job.started = onStart;
    }
    this.#queue.push(job);
    return true;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Fails every job that has not started (shutdown). */
  rejectQueued(error: unknown): void {
    for (const job of this.#queue.splice(0)) job.reject(error);
    this.#notifyIdle();
  }

  #waitingTexts(): number {
    let n = 0;
    for (const job of this.#queue) if (job.kind === 'embed') n += job.texts.length;
    return n;
  }

  /** Lets requests of the same turn (or of `maxWaitMs`, unless `full`) join the batch before it goes out. */
  #gather(full = false): void {
    const waitMs = full ? 0 : this.#maxWaitMs;
    if (this.#gathering) {
      if (waitMs > 0 || this.#gatheringMs === 0) return;
      clearTimeout(this.#gathering as NodeJS.Timeout);
    }
    const go = () => {
      this.#gathering = undefined;
      this.#drain();
    };
    this.#gatheringMs = waitMs;
    this.#gathering = waitMs > 0 ? setTimeout(go, waitMs) : setImmediate(go);
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const worker = this.#idleWorker();
      if (!worker) return;
      const head = this.#queue[0]!;
      if (head.kind === 'run') {
        this.#queue.shift();
        head.started?.();
        this.#dispatch(worker, () => head.fn(worker.model).then(head.resolve, head.reject));
      } else {
        const batch = this.#takeBatch(head.paramsKey);
        for (const job of batch) job.started?.();
        this.#dispatch(worker, () => this.#embedBatch(worker.model, batch));
      }
    }
  }

  #idleWorker(): Worker | undefined {
    for (let i = 0; i < this.#workers.length; i++) {
      const worker = this.#workers[(this.#next + i) % this.#workers.length]!;
      if (!worker.busy) {
        this.#next = (this.#next + i + 1) % this.#workers.length;
        return worker;
      }
    }
    return undefined;
  }

  /**
   * The batch holding the head job, with the waiting jobs of the same parameters sorted by text
   * length and cut into runs of at most `maxBatchSize` texts: a backend pads a batch to its
   * longest text, so neighbours in length waste the least. The head always goes, so no request
   * waits behind later ones for long.
   */
  #takeBatch(key: string): EmbedJob[] {
    const head = this.#queue[0] as EmbedJob;
    const sorted = this.#queue
      .filter((job): job is EmbedJob => job.kind === 'embed' && job.paramsKey === key)
      .map((job) => ({ job, length: meanLength(job.texts) }))
      .sort((a, b) => a.length - b.length);
    let batch: EmbedJob[] = [];
    let texts = 0;
    for (const { job } of sorted) {
      if (texts > 0 && texts + job.texts.length > this.#maxBatchSize) {
        if (batch.includes(head)) break;
        batch = [];
        texts = 0;
      }
      batch.push(job);
      texts += job.texts.length;
    }
    const taken = new Set<Job>(batch);
    for (let i = this.#queue.length - 1; i >= 0; i--) if (taken.has(this.#queue[i]!)) this.#queue.splice(i, 1);
    return batch;
  }

  #dispatch(worker: Worker, work: () => Promise<void>): void {
    worker.busy = true;
    this.calls += 1;
    void work()
      .catch(() => undefined)
      .finally(() => {
        worker.busy = false;
        this.#drain();
        this.#notifyIdle();
      });
  }

  async #embedBatch(model: LoadedModel, batch: EmbedJob[]): Promise<void> {
    const texts = batch.flatMap((job) => job.texts);
    this.batchedTexts += texts.length;
    try {
      const vectors = await embedOn(model, texts, batch[0]!.params);
      let offset = 0;
      for (const job of batch) {
        job.resolve(vectors.slice(offset, offset + job.texts.length));
        offset += job.texts.length;
      }
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One bad request must not fail the others merged with it: retry each on its own.
      for (const job of batch) await embedOn(model, job.texts, job.params).then(job.resolve, job.reject);
    }
  }

  #notifyIdle(): void {
    if (this.#queue.length > 0 || this.active > 0) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}

async function embedOn(model: LoadedModel, texts: readonly string[], params: EmbeddingParams): Promise<number[][]> {
  if (!model.embed) throw new ModelManagerError('UNSUPPORTED_TASK', `backend "${model.backend}" loaded this model without embedding support`);
  const vectors = await model.embed(texts, params);
  if (vectors.length !== texts.length) {
    throw new ModelManagerError('TASK_FAILED', `backend "${model.backend}" returned ${vectors.length} vectors for ${texts.length} texts`);
  }
  return vectors;
}

function meanLength(texts: readonly string[]): number {
  let total = 0;
  for (const t of texts) total += t.length;
  return texts.length === 0 ? 0 : total / texts.length;
}
