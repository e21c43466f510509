export * from './schema.js';
export * from './query.js';
export * from './search.js';
export { validateModel, type FieldIssue } from './validate.js';
export { mergePatch } from './merge-patch.js';
export { pathsOn, onlyElsewhere, localPathOn, withLocation, withoutLocations } from './locations.js';
export { Registry, type OpenRegistryOptions, type AddQualityMetricInput } from './registry.js';
export { exportMetadata, importMetadata, readMetadataFile, fromSnakeCase, type ExportFormat, type ExportOptions, type ImportResult } from './transfer.js';
export type { ExportedVersion } from './history.js';
export type { RegistryStore, RegistryStats, RegistryChange, StoredModel, VersionInfo, CountMap } from './stores/store.js';
export { openStore, STORES, type OpenStoreOptions, type StoreFactory } from './stores/index.js';
// Types only: the json and duckdb stores (and DuckDB's native binding) load when first opened.
export type { SqliteStore } from './stores/sqlite.js';
export type { JsonStore, JsonStoreOptions } from './stores/json.js';
export type { DuckDbStore } from './stores/duckdb.js';
export type { DuckDbLeaseOptions } from './stores/duckdb-lease.js';
