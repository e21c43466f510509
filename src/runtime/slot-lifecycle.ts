/**
 * The lifecycle of a loaded model's slot: a private state machine that only its own methods move,
 * with the requests, references and keep-alive countdown that decide when it may go.
 *
 *     loading ──▶ ready ──▶ unloading ──▶ closed
 *        │                      ▲             ▲
 *        ├──────────────────────┘             │   released while it loads
 *        └────────────────────────────────────┘   the load failed
 *
 * The instances exist only while ready and unloading; a request enters only a loading or ready
 * slot; unloading waits for the requests inside to end, then disposes the instances. A move the
 * state does not allow is refused with INTERNAL: a bug in the runtime, never a caller's error.
 */
import { ModelManagerError } from '../errors.js';
import type { TaskType } from './backends/backend.js';
import type { TaskInfo } from './types.js';
import type { WorkerPool } from './worker-pool.js';

let useCounter = 0;

/** A task() request inside a slot, listed by ps from the moment it has the slot until it ends. */
export class ActiveTask {
  #state: TaskInfo['state'] = 'queued';
  #since = Date.now();

  constructor(
    readonly taskType: TaskType,
    readonly maxTokens: number | undefined,
    private readonly list: Set<ActiveTask>,
  ) {
    list.add(this);
  }

  /** An instance took it. */
  start(): void {
    this.#state = 'running';
    this.#since = Date.now();
  }

  end(): void {
    this.list.delete(this);
  }

  info(): TaskInfo {
    return { taskType: this.taskType, state: this.#state, since: new Date(this.#since).toISOString(), ...(this.maxTokens === undefined ? {} : { maxTokens: this.maxTokens }) };
  }
}

type Phase =
  | { readonly name: 'loading'; awaitingLoad: number }
  | { readonly name: 'ready'; readonly pool: WorkerPool; countdown: NodeJS.Timeout | undefined; expiresAt: Date | null }
  | { readonly name: 'unloading'; readonly pool: WorkerPool | undefined; readonly closed: Promise<void> }
  | { readonly name: 'closed' };

export type SlotState = Phase['name'];

export abstract class SlotLifecycle {
  #phase: Phase = { name: 'loading', awaitingLoad: 0 };
  /** Settles when the load ends; the first requests all wait on this one promise. */
  #loaded: Promise<void> = Promise.resolve();
  #keepAliveMs: number;
  /** References from getModel() handles (while ready). */
  #refs = 0;
  /** Requests inside: waiting for the load, queued, or running (task() requests and handle calls). */
  #inFlight = 0;
  #requests = 0;
  #lastUsedAt = new Date();
  /** Order of last use across all slots (clock times tie within a millisecond). */
  #lastUse = ++useCounter;
  #unusedWaiters: (() => void)[] = [];
  readonly #tasks = new Set<ActiveTask>();

  readonly #taskType: TaskType;

  /** `name` names the slot in errors. */
  protected constructor(readonly name: string, taskType: TaskType, keepAliveMs: number) {
    this.#taskType = taskType;
    this.#keepAliveMs = keepAliveMs;
  }

  get state(): SlotState {
    return this.#phase.name;
  }

  /** The instances and their queue, while ready or unloading. */
  get pool(): WorkerPool | undefined {
    return this.#phase.name === 'ready' || this.#phase.name === 'unloading' ? this.#phase.pool : undefined;
  }

  get keepAliveMs(): number {
    return this.#keepAliveMs;
  }

  get refs(): number {
    return this.#refs;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests waiting for the load to finish (they count against maxQueue). */
  get awaitingLoad(): number {
    return this.#phase.name === 'loading' ? this.#phase.awaitingLoad : 0;
  }

  /** task() requests with data that ran here. */
  get requests(): number {
    return this.#requests;
  }

  get lastUse(): number {
    return this.#lastUse;
  }

  get lastUsedAt(): Date {
    return this.#lastUsedAt;
  }

  /** When the keep-alive countdown will free the slot; null while in use or when kept until released. */
  get expiresAt(): Date | null {
    return this.#phase.name === 'ready' ? this.#phase.expiresAt : null;
  }

  /** Idle: ready, no references, nothing running or waiting; only idle slots may be evicted or expire. */
  get idle(): boolean {
    return this.#phase.name === 'ready' && this.#refs === 0 && this.#inFlight === 0;
  }

  /** The task() requests inside, queued or running. */
  get tasks(): TaskInfo[] {
    return [...this.#tasks].map((t) => t.info());
  }

  /** Starts the load the slot waits on; called once, by the constructor of the slot. */
  protected startLoad(load: Promise<void>): void {
    this.#loaded = load;
    // Waiters get the error through whenLoaded(); this handler only keeps it from being unhandled.
    load.catch(() => undefined);
  }

  /** loading → ready: the instances serve from now on. */
  protected becomeReady(pool: WorkerPool): void {
    this.expect('finish loading', 'loading');
    this.#phase = { name: 'ready', pool, countdown: undefined, expiresAt: null };
  }

  /** loading → closed: the load failed (a slot released while loading closes through its unload). */
  failLoad(): void {
    if (this.#phase.name === 'unloading') return;
    this.expect('fail its load', 'loading');
    this.#phase = { name: 'closed' };
  }

  /** Resolves once the load has finished; rejects with the load's error. Counted in `awaitingLoad` meanwhile. */
  async whenLoaded(): Promise<void> {
    const phase = this.#phase;
    if (phase.name !== 'loading') return this.#loaded;
    phase.awaitingLoad += 1;
    try {
      await this.#loaded;
    } finally {
      phase.awaitingLoad -= 1;
    }
  }

  /** A request names another keep-alive: it applies from the next countdown. */
  setKeepAlive(ms: number): void {
    this.expect('take a keep-alive', 'loading', 'ready');
    this.#keepAliveMs = ms;
  }

  /** A request (or a handle's call) comes in: it holds the slot until `leave()`; the keep-alive countdown stops. */
  enter(): void {
    this.expect('take a request', 'loading', 'ready');
    this.#inFlight += 1;
    this.#stopCountdown();
    this.#touch();
  }

  /** A request that entered is done. */
  leave(): void {
    if (this.#inFlight === 0) throw this.invalid('let a request leave: none is inside');
    this.#inFlight -= 1;
    this.#touch();
    if (this.#inFlight === 0) for (const wake of this.#unusedWaiters.splice(0)) wake();
  }

  /** A getModel() handle takes a reference. */
  addRef(): void {
    this.expect('take a reference', 'ready');
    this.#refs += 1;
  }

  /** Drops one reference; none left to drop (released by force meanwhile) is nothing to do. */
  dropRef(): void {
    if (this.#refs > 0) this.#refs -= 1;
  }

  /** Lists a task() request that carries data in ps (queued until `start()`) until its `end()`, and counts it. */
  enterTask(maxTokens: number | undefined): ActiveTask {
    this.expect('run a task', 'ready', 'unloading');
    this.#requests += 1;
    return new ActiveTask(this.#taskType, maxTokens, this.#tasks);
  }

  /** Starts the keep-alive countdown of an idle slot; `onExpire` frees it. Kept until released: no countdown. */
  armKeepAlive(onExpire: () => void): void {
    const phase = this.#phase;
    if (phase.name !== 'ready' || !this.idle) throw this.invalid('count down its keep-alive: it is not idle');
    this.#stopCountdown();
    const ms = this.#keepAliveMs;
    if (ms === Infinity) return;
    phase.expiresAt = new Date(Date.now() + ms);
    // Timers past ~24.8 days overflow setTimeout; no keep-alive needs that precision.
    phase.countdown = setTimeout(onExpire, Math.min(ms, 2 ** 31 - 1));
    phase.countdown.unref();
  }

  /**
   * ready → unloading → closed: no request may enter any more; once the requests inside have
   * ended, the instances are disposed. A loading slot closes once its load ends (the load sees
   * the slot is no longer loading and disposes what it made). Idempotent.
   * @returns resolves when the slot is closed
   */
  unload(): Promise<void> {
    const phase = this.#phase;
    if (phase.name === 'unloading') return phase.closed;
    if (phase.name === 'closed') return Promise.resolve();
    this.#stopCountdown();
    this.#refs = 0;
    const pool = phase.name === 'ready' ? phase.pool : undefined;
    const closed = (async () => {
      if (pool) {
        await this.#unused();
        await Promise.allSettled(pool.instances.map((m) => m.dispose()));
      } else {
        await this.#loaded.catch(() => undefined);
      }
      this.#phase = { name: 'closed' };
    })();
    this.#phase = { name: 'unloading', pool, closed };
    return closed;
  }

  /** @throws INTERNAL unless the load is still running (loading, or released while loading and not yet closed) */
  protected expectLoadRunning(action: string): void {
    const phase = this.#phase;
    if (phase.name === 'loading' || (phase.name === 'unloading' && phase.pool === undefined)) return;
    throw this.invalid(action);
  }

  /** @throws INTERNAL unless the slot is in one of `states` */
  protected expect(action: string, ...states: SlotState[]): void {
    if (!states.includes(this.#phase.name)) throw this.invalid(action);
  }

  protected invalid(action: string): ModelManagerError {
    return new ModelManagerError('INTERNAL', `the slot of "${this.name}" cannot ${action} while ${this.#phase.name}`, {
      details: { modelName: this.name, state: this.#phase.name, action },
    });
  }

  #unused(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#unusedWaiters.push(resolve));
  }

  #touch(): void {
    this.#lastUsedAt = new Date();
    this.#lastUse = ++useCounter;
  }

  #stopCountdown(): void {
    const phase = this.#phase;
    if (phase.name !== 'ready') return;
    if (phase.countdown) clearTimeout(phase.countdown);
    phase.countdown = undefined;
    phase.expiresAt = null;
  }
}
