export * from './schema.js';
export * from './query.js';
export { validateModel, type FieldIssue } from './validate.js';
export { mergePatch } from './merge-patch.js';
export { Registry, type OpenRegistryOptions, type AddQualityMetricInput } from './registry.js';
export { exportMetadata, importMetadata, readMetadataFile, fromSnakeCase, type ExportFormat, type ImportResult } from './transfer.js';
export type { RegistryStore, RegistryStats, StoredModel, VersionInfo, CountMap } from './stores/store.js';
export { openStore, STORES, type OpenStoreOptions, type StoreFactory } from './stores/index.js';
