/**
 * A server's membership of the cluster: it registers itself, renews its heartbeat, publishes what
 * it has loaded whenever that changes, and leaves when it stops.
 *
 * The runtime raises no event when a model loads or goes, so what it has loaded is compared with
 * what was published every second (a walk over a few in-memory slots); a change of the set, a
 * state, a device or a size is published at once, a newer "last used" or the requests at work with
 * the next heartbeat.
 */
import type { ClusterStore, HostInfo, HostRegistration, LoadedModelEntry } from './types.js';
import { packageVersion } from './host-info.js';

export interface ClusterMembershipOptions {
  cluster: ClusterStore;
  /** `MM_HOST_ID`, else the hostname. */
  hostId: string;
  /** Where this server answers. */
  url: string;
  /** The machine now (renewed with each heartbeat). */
  describe: () => HostInfo;
  /** What the server has loaded now. Defaults to nothing (a server without a runtime). */
  loaded?: () => LoadedModelEntry[];
  /** How often the heartbeat is renewed; the server shows as gone after three missed. Defaults to 5000. */
  heartbeatMs?: number;
  /** How often `loaded` is compared with what was published. Defaults to 1000, or the heartbeat when shorter. */
  checkMs?: number;
  /** Told of a heartbeat or publication that failed (the next one tries again). Defaults to a warning. */
  onError?: (error: unknown) => void;
}

/**
 * What of a loaded model counts as a change to publish at once: not its last use, expiry or the
 * requests at work in it, which change with every request and go out with the next heartbeat.
 */
function shapeOf(models: readonly LoadedModelEntry[]): string {
  return JSON.stringify(models.map(({ lastUsedAt: _u, expiresAt: _e, queue: _q, running: _r, tasks: _t, ...shape }) => shape));
}

export class ClusterMembership implements AsyncDisposable {
  readonly #options: Required<Omit<ClusterMembershipOptions, 'loaded'>> & Pick<ClusterMembershipOptions, 'loaded'>;
  readonly #registration: Omit<HostRegistration, 'info'>;
  readonly #timers: NodeJS.Timeout[] = [];
  /** One write at a time, in order. */
  #chain: Promise<void> = Promise.resolve();
  #published: LoadedModelEntry[] = [];
  #left: Promise<void> | undefined;

  private constructor(options: ClusterMembershipOptions) {
    const heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#options = {
      ...options,
      heartbeatMs,
      checkMs: options.checkMs ?? Math.min(1_000, heartbeatMs),
      onError: options.onError ?? ((error) => process.emitWarning(`cluster: ${error instanceof Error ? error.message : String(error)}`, { code: 'MODEL_MANAGER' })),
    };
    this.#registration = { hostId: options.hostId, url: options.url, version: packageVersion(), startedAt: new Date().toISOString(), heartbeatMs };
  }

  /** Registers the server, publishes what it has loaded, and keeps both current until `leave()`. @throws what the store throws for the first registration */
  static async join(options: ClusterMembershipOptions): Promise<ClusterMembership> {
    const membership = new ClusterMembership(options);
    await membership.#beat(true);
    membership.#start();
    return membership;
  }

  #start(): void {
    const every = (ms: number, run: () => Promise<void>) => {
      const timer = setInterval(() => void this.#serially(run), ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#options.heartbeatMs, () => this.#beat(false));
    every(this.#options.checkMs, async () => {
      const now = this.#loaded();
      if (shapeOf(now) !== shapeOf(this.#published)) await this.#publish(now);
    });
  }

  #loaded(): LoadedModelEntry[] {
    return this.#options.loaded?.() ?? [];
  }

  /** Renews the heartbeat; publishes the loaded models when the row is new, or when they changed at all. */
  async #beat(first: boolean): Promise<void> {
    const fresh = await this.#options.cluster.heartbeat({ ...this.#registration, info: this.#options.describe() });
    const now = this.#loaded();
    if (first || fresh || JSON.stringify(now) !== JSON.stringify(this.#published)) await this.#publish(now);
  }

  async #publish(models: LoadedModelEntry[]): Promise<void> {
    await this.#options.cluster.publishLoaded(this.#registration.hostId, this.#registration.url, models);
    this.#published = models;
  }

  #serially(run: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(() => (this.#left ? undefined : run())).catch((error: unknown) => this.#options.onError(error));
    return this.#chain;
  }

  /** Stops the heartbeat and removes the server from the cluster; idempotent. */
  leave(): Promise<void> {
    this.#left ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      await this.#chain;
      await this.#options.cluster.deregister(this.#registration.hostId, this.#registration.url).catch((error: unknown) => this.#options.onError(error));
    })();
    return this.#left;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.leave();
  }
}
