/**
 * The cluster's shapes: what a server says of itself and of what it has loaded, and the store
 * that keeps them for every host sharing a registry (`ClusterStore`, kept by the postgres store).
 */

export interface HostDevice {
  kind: 'cpu' | 'gpu';
  /** e.g. the CPU model, or the GPU's name. */
  name: string;
  /** A GPU as the runtime names it: `cuda:0`, the Nth GPU of its kind. */
  device?: string;
  /** The GPU kind the runtime computes on with it (`cuda`, `vulkan`, `metal`). */
  gpuKind?: string;
  cores?: number;
  memoryBytes?: number;
}

/** What a server reports of its machine; renewed with every heartbeat. */
export interface HostInfo {
  devices: HostDevice[];
  memory: { totalBytes: number; freeBytes: number };
  /** Memory all loaded models may take together, when a runtime runs. */
  memoryBudgetBytes?: number;
  platform: string;
  pid: number;
}

/** A request inside a loaded model, as the runtime lists it. */
export interface LoadedModelTask {
  taskType: string;
  state: 'queued' | 'running';
  /** When it entered that state. */
  since: string;
  maxTokens?: number;
}

/** One model a server has loaded. */
export interface LoadedModelEntry {
  /** The name it was asked for. */
  name: string;
  /** Its registry id, else its path. */
  model: string;
  /** `unloading`: released, and freed once the requests still running in it end. */
  state: 'loading' | 'ready' | 'unloading';
  backend: string;
  device: string;
  /** The GPU kind its instances compute on; absent on the CPU. */
  gpuKind?: string;
  workers: number;
  sizeBytes: number;
  sizeVram: number;
  /** Requests waiting for an instance. */
  queue: number;
  /** Instances at work. */
  running: number;
  tasks: LoadedModelTask[];
  loadedAt: string;
  lastUsedAt: string;
  expiresAt: string | null;
}

/** A server as it registers itself. */
export interface HostRegistration {
  /** `MM_HOST_ID`, default the hostname. */
  hostId: string;
  /** Where the server answers. */
  url: string;
  /** Model Manager's version. */
  version: string;
  startedAt: string;
  /** How often it renews its heartbeat; it is gone after three missed ones. */
  heartbeatMs: number;
  info: HostInfo;
}

/** A registered server as every host sees it. */
export interface ClusterHost extends HostRegistration {
  heartbeatAt: string;
  /** `gone` once three heartbeats were missed: its models are no longer listed, and its rows soon expire. */
  status: 'live' | 'gone';
  /** Since the last heartbeat, by the database's clock. */
  heartbeatAgeMs: number;
  models: LoadedModelEntry[];
}

/** Servers and their loaded models, in a store several hosts share. */
export interface ClusterStore {
  /**
   * Registers the server or renews its heartbeat and info; rows of servers long gone are removed.
   * @returns true when the row was new (registered, or expired meanwhile): its loaded models must be published again
   */
  heartbeat(host: HostRegistration): Promise<boolean>;
  /** Replaces the list of models a server has loaded. */
  publishLoaded(hostId: string, url: string, models: readonly LoadedModelEntry[]): Promise<void>;
  /** Removes a server and its models (it is stopping). */
  deregister(hostId: string, url: string): Promise<void>;
  /** Every server registered and not yet expired: live ones first, then gone ones (without models). */
  hosts(): Promise<ClusterHost[]>;
}

/** Heartbeats a server may miss before it shows as gone. */
export const GONE_AFTER_HEARTBEATS = 3;
/** Heartbeats after which a silent server's rows are removed. */
export const EXPIRE_AFTER_HEARTBEATS = 60;
