/**
 * Model Manager's public API: the only import path the CLI, the server and users need.
 */
export * from './errors.js';
export * from './config.js';
export * from './settings/index.js';
export * from './registry/index.js';
export * from './units.js';
export * from './formats/index.js';
export {
  importFromHuggingFace, syncHuggingFace, syncStaticModels, STATIC_MODELS, createModelFromHuggingFace, resolveHfSnapshot, fetchHubSnapshot, findCachedSnapshot,
  readModelFolder, parseModelCard, snapshotModelId, folderModelId, hubError, describeModelKind,
  type HfImportOptions, type HfImportOutcome, type HfImportAction, type HfSyncResult, type StaticSyncResult, type StaticModelDefinition, type HfSnapshot, type HfSourceKind,
  type CreateModelOptions, type HubClientOptions, type ModelCard, type ModelKind, type WeightsSummary,
} from './hub/index.js';
export {
  estimateMemory, toMemoryEstimate, countParametersFromConfig, detectAttentionType, transformerShape, kvCacheShape, parseDtype,
  bytesPerElement, DEFAULT_ESTIMATE_CONTEXT, PARAMETER_COUNTERS,
  type MemoryEstimateOptions, type MemoryEstimateReport, type ConfigParameterCount, type TransformerShape, type HfConfig, type Dtype,
} from './estimate/index.js';
export * from './runtime/index.js';
export * from './testmodels/index.js';
export * from './runtime/backends/index.js';
export * from './discovery/index.js';
export * from './server/index.js';
export {
  pullModel, pullToRegistry, parseHubName, selectFiles, cachedRepoPaths, snapshotOfRepoFolder,
  type PullOptions, type PullProgress, type PullResult, type PullFileResult, type RepoFile, type CachedSnapshot, type RegisteredPull, type PullToRegistryOptions,
} from './hub/index.js';
export * from './cluster/index.js';
