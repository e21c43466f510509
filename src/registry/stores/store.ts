/**
 * The storage interface every registry store implements (sqlite, json, duckdb, postgres).
 *
 * Stores are dumb and durable: they keep validated records, their numbered versions and cached
 * values. Validation, merging and version policy live in Registry, above them.
 * One contract suite (test/registry/store-contract.ts) runs every store through the same cases.
 */
import type { ClusterStore } from '../../cluster/types.js';
import type { ApiKeyStore } from '../api-key-records.js';
import type { StoreKind } from '../../config.js';
import { ModelManagerError } from '../../errors.js';
import type { ModelFilter } from '../query.js';
import type { SearchHit } from '../search.js';
import type { ModelMetadata } from '../schema.js';

/** One numbered version of a model. Version 1 is the first add. */
export interface VersionInfo {
  modelId: string;
  version: number;
  /** ISO timestamp of the change. */
  createdAt: string;
  /** What made this version, e.g. `add`, `update`, `rollback to 2`. */
  change: string;
}

/** A model as stored now, with its current version number. */
export interface StoredModel {
  model: ModelMetadata;
  version: number;
}

export type CountMap = Record<string, number>;

export interface RegistryStats {
  totalModels: number;
  totalVersions: number;
  totalParameters: number;
  byType: CountMap;
  byArchitecture: CountMap;
  byAttentionType: CountMap;
  byFormat: CountMap;
  bySource: CountMap;
}

/** A change to the registry, as a store that can watch reports it. */
export interface RegistryChange {
  /** `insert`, `update`, `delete`; `resync` when the watch (re)connected and changes meanwhile may have been missed. */
  op: 'insert' | 'update' | 'delete' | 'resync';
  /** How many models the change touched. */
  count: number;
  /** Some of their ids (at most 20). */
  modelIds: string[];
}

export interface RegistryStore {
  readonly kind: StoreKind;
  /** File or folder the store lives in (for postgres: the URL without its password). */
  readonly location: string;
  /** Servers and their loaded models, for a store that several hosts share (postgres). */
  readonly cluster?: ClusterStore;
  /** The API keys of the servers sharing this store (postgres); others keep them in a keys file. */
  readonly apiKeys?: ApiKeyStore;

  /**
   * Adds models as version 1, all or none.
   * @throws ModelManagerError MODEL_EXISTS when one is already stored (nothing is written).
   */
  insert(models: readonly ModelMetadata[], change: string): Promise<VersionInfo[]>;
  /**
   * Replaces a model and appends its next version, atomically.
   * @param expectedVersion when given, the write fails with VERSION_CONFLICT if another writer got there first.
   * @throws ModelManagerError MODEL_NOT_FOUND, VERSION_CONFLICT
   */
  update(model: ModelMetadata, change: string, expectedVersion?: number): Promise<VersionInfo>;
  /**
   * Replaces the current version's record in place, without a new version (what the runtime
   * measured is no edit anyone would roll back). Returns the current version, unchanged.
   * @param expectedVersion when given, the write fails with VERSION_CONFLICT if another writer got there first.
   * @throws ModelManagerError MODEL_NOT_FOUND, VERSION_CONFLICT
   */
  replaceCurrent(model: ModelMetadata, expectedVersion?: number): Promise<VersionInfo>;
  /** Deletes a model with its versions and cached values; false when it was not there. */
  remove(modelId: string): Promise<boolean>;

  get(modelId: string): Promise<StoredModel | undefined>;
  /** Models passing a normalised filter, sorted and paged as it says. */
  list(filter: ModelFilter): Promise<ModelMetadata[]>;
  /** How many models pass the filter (limit and offset ignored). */
  count(filter: ModelFilter): Promise<number>;
  /** The best `limit` matches, scored and ordered by the rules of search.ts (as `rankSearch` does), so every store answers alike. */
  search(text: string, limit: number): Promise<SearchHit[]>;
  /** Counts over the models passing a normalised filter (limit and offset ignored), with their versions. */
  stats(filter: ModelFilter): Promise<RegistryStats>;

  listVersions(modelId: string): Promise<VersionInfo[]>;
  getVersion(modelId: string, version: number): Promise<ModelMetadata | undefined>;

  /** A cached value, or undefined when absent or expired. */
  cacheGet(modelId: string, key: string): Promise<unknown>;
  /** Caches a JSON value; `ttlMs` undefined keeps it until cleared. */
  cacheSet(modelId: string, key: string, value: unknown, ttlMs?: number): Promise<void>;
  /** Clears one model's cached values, or all; returns how many were removed. */
  cacheClear(modelId?: string): Promise<number>;

  /**
   * Calls `listener` with every change any process makes, for a store that can tell (postgres).
   * @returns what stops it
   */
  watch?(listener: (change: RegistryChange) => void): () => void;

  /** Flushes and closes; idempotent. */
  close(): Promise<void>;
}

/** Counts models into the stats shape; used by stores that hold records in memory. */
export function computeStats(models: Iterable<ModelMetadata>, totalVersions: number): RegistryStats {
  const stats: RegistryStats = {
    totalModels: 0,
    totalVersions,
    totalParameters: 0,
    byType: {},
    byArchitecture: {},
    byAttentionType: {},
    byFormat: {},
    bySource: {},
  };
  const bump = (map: CountMap, key: string | undefined) => {
    if (key) map[key] = (map[key] ?? 0) + 1;
  };
  for (const m of models) {
    stats.totalModels += 1;
    stats.totalParameters += m.parameterCount ?? 0;
    bump(stats.byType, m.modelType);
    bump(stats.byArchitecture, m.architecture);
    bump(stats.byAttentionType, m.attentionType);
    bump(stats.byFormat, m.format);
    bump(stats.bySource, m.source);
  }
  return stats;
}

/** The error of a write whose model changed since the writer read it. */
export function versionConflict(modelId: string, version: number, expectedVersion: number): ModelManagerError {
  return new ModelManagerError('VERSION_CONFLICT', `model "${modelId}" changed meanwhile (version ${version}, expected ${expectedVersion}); read it again and retry`, {
    details: { modelId, version, expectedVersion },
  });
}
