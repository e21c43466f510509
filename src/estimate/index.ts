export { transformerShape, languageConfig, type HfConfig, type TransformerShape, type MlaShape } from './config-shape.js';
export { detectAttentionType, attentionTypeOfShape } from './attention.js';
export { countParametersFromConfig, PARAMETER_COUNTERS, type ConfigParameterCount, type ParameterFamily } from './parameters.js';
export { kvCacheShape, kvCacheElements, type KvCacheShape } from './kv-cache.js';
export { bytesPerElement, normalizeDtype, parseDtype, type Dtype } from './dtype.js';
export {
  estimateMemory, toMemoryEstimate, DEFAULT_ESTIMATE_CONTEXT, OVERHEAD_FIXED_BYTES, OVERHEAD_FRACTION,
  type MemoryEstimateOptions, type MemoryEstimateReport,
} from './memory.js';
