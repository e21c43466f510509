/**
 * The shapes the server needs from Discovery and ModelManager, declared structurally.
 *
 * The server depends on these, not on the classes, so it builds and is tested on its own and the
 * real `Discovery` (src/discovery) and `ModelManager` (src/runtime) plug in as they are.
 * Only what the routes read is declared; everything else the real objects carry is passed through.
 */
import type { ModelMetadata, ModelMetadataInput } from '../registry/schema.js';
import type { ConfiguredModel } from '../runtime/configured-models.js';
import type { TaskInput } from '../runtime/task-input.js';
import type { GpuBackendStatus, LoadedModelInfo } from '../runtime/types.js';

/** Counts and times of one finished scan. */
export interface ScanSummaryLike {
  scanId: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  roots: string[];
  counts: { scanned: number; added: number; updated: number; unchanged: number; missing: number; warnings: number };
}

export interface ScanReportLike extends ScanSummaryLike {
  warnings: { path: string; reason: string }[];
  modelIds: string[];
}

export interface DiscoveryStatusLike {
  running: boolean;
  lastScan?: ScanSummaryLike;
  nextScanAt?: string;
  roots: string[];
  settings?: unknown;
}

export interface ScanLogEntryLike {
  at: string;
  level: 'info' | 'warn' | 'error';
  path?: string;
  message: string;
  scanId: string;
}

export interface ValidationReportLike {
  modelId: string;
  ok: boolean;
  checks: { name: string; ok: boolean; message: string }[];
}

export interface RegisterOptionsLike {
  /** Sees the record about to be written and refuses it by throwing; nothing is written then. */
  check?: (next: ModelMetadata) => void;
}

/** What the discovery routes call (the `Discovery` class of src/discovery). */
export interface DiscoveryService {
  refresh(options?: { roots?: string[] }): Promise<ScanReportLike>;
  status(): DiscoveryStatusLike;
  logs(options?: { limit?: number }): Promise<ScanLogEntryLike[]>;
  discovered(): Promise<ModelMetadata[]>;
  register(path: string, overrides?: Partial<ModelMetadataInput>, options?: RegisterOptionsLike): Promise<ModelMetadata>;
  validate(modelId: string): Promise<ValidationReportLike>;
}

export type ResultLike =
  | { success: true; data: unknown }
  | { success: false; error: { code: string; message: string; details?: unknown; cause?: unknown } };

/** One loaded model as `ps()` reports it (the runtime's LoadedModelInfo; task types and device kept loose for stand-ins). */
export type LoadedModelLike = Omit<LoadedModelInfo, 'taskType' | 'device' | 'tasks'> & {
  device: string;
  tasks: (Omit<LoadedModelInfo['tasks'][number], 'taskType'> & { taskType: string })[];
};

/** The parts of `getStatus()` the metrics endpoint reads; each is optional so a leaner status still fits. */
export interface ManagerStatusLike {
  cache?: { hits?: number; misses?: number; entries?: number };
  /** Requests waiting, all models together. */
  queueDepth?: number;
  memory?: { budgetBytes?: number; usedBytes?: number };
  counters?: { loads?: number; loadFailures?: number; evictions?: number; expired?: number; released?: number; workersLost?: number };
  /** What each backend found of the GPUs: kind, devices with memory, and why each kind tried failed. */
  gpus?: GpuBackendStatus[];
}

/** One event of a pull's progress (`PullProgress` of src/hub). */
export interface PullProgressLike {
  status: string;
  file?: string;
  completed?: number;
  total?: number;
}

export interface PullRequestLike {
  revision?: string;
  include?: readonly string[];
  exclude?: readonly string[];
  dryRun?: boolean;
  onProgress?: (event: PullProgressLike) => void;
  /** Sees each stored record the pull may write to and refuses by throwing (the caller's access). */
  check?: (current: ModelMetadata) => void;
}

/** What a pull did (`RegisteredPull` of src/hub): the registry id, and the pull's files and bytes. */
export interface PullOutcomeLike {
  modelId: string;
  action: string;
  pull: object;
}

/** What the runtime routes call (the `ModelManager` class of src/runtime). */
export interface RuntimeService {
  /**
   * Runs a request the server checked with `parseTaskRequest()` (ModelManager.run): its signal aborts
   * when the HTTP client hangs up, and the task then stops and fails with CANCELLED.
   */
  run(input: TaskInput): Promise<ResultLike>;
  /** Downloads a hub id into the runtime's HF cache and registry (`POST /api/pull`); absent: pulls answer 501. */
  pull?(name: string, options: PullRequestLike): Promise<PullOutcomeLike>;
  /** Whether tasks pull hub ids found nowhere on disk (`autoPull`). */
  readonly autoPull?: boolean;
  ps(): LoadedModelLike[];
  releaseModel(name: string, options?: { force?: boolean }): Promise<boolean>;
  getStatus(): ManagerStatusLike;
  /** The model configured under `name` (settings `models.<name>`), if any; a runtime without configured models may leave it out. */
  configuredModel?(name: string): ConfiguredModel | undefined;
  /** Every configured model. */
  configuredModels?(): ConfiguredModel[];
  /** Where a name would load from, with the registry entry of the model there. @throws MODEL_NOT_FOUND */
  locateModel?(name: string): Promise<{ path: string; model?: ModelMetadata }>;
}
