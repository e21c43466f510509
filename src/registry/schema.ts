/**
 * The metadata model: enums, IOSpec, ModelMetadata, and their runtime validation.
 *
 * One zod schema is the source of both the TypeScript types and the checks, so what the compiler
 * accepts and what the registry stores can never drift apart.
 */
import { z } from 'zod';

export const MODEL_TYPES = [
  'language_model',
  'vision_model',
  'audio_model',
  'multimodal',
  'embedding_model',
  'encoder_decoder',
  'encoder_only',
  'decoder_only',
] as const;
/** A known model type, or any custom string. */
export type ModelType = (typeof MODEL_TYPES)[number] | (string & {});

export const DATA_TYPES = ['TEXT', 'IMAGE', 'AUDIO', 'VIDEO', 'EMBEDDINGS', 'TOKENS', 'LOGITS', 'FEATURES'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const MODALITIES = ['text', 'image', 'audio', 'video'] as const;
export type Modality = (typeof MODALITIES)[number];

export const FORMATS = ['safetensors', 'pytorch', 'onnx', 'gguf', 'ggml'] as const;
export type ModelFormat = (typeof FORMATS)[number];

export const ATTENTION_TYPES = ['mha', 'gqa', 'mqa', 'mla'] as const;
export type AttentionType = (typeof ATTENTION_TYPES)[number];

export const SOURCES = ['manual', 'huggingface', 'discovered', 'static'] as const;
export type ModelSource = (typeof SOURCES)[number];

export const ACCESS_LEVELS = ['public', 'restricted', 'admin_only'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** Enum values are matched case-insensitively (the Python managers write `LANGUAGE_MODEL`, `text`). */
function caseless<T extends readonly [string, ...string[]]>(values: T, toCase: 'lower' | 'upper') {
  return z.preprocess(
    (v) => (typeof v === 'string' ? (toCase === 'lower' ? v.toLowerCase() : v.toUpperCase()) : v),
    z.enum(values),
  );
}

const nonNegInt = z.number().int().nonnegative();
const isoDate = z.iso.datetime({ offset: true });
const record = z.record(z.string(), z.unknown());

/**
 * `org/name[-variant]`: letters, digits, `._-` (and `:+` after the first part), with `/` between
 * parts; each part starts with a letter, digit or `_` (as Hugging Face repo ids do), and no `..`.
 * So an id never reads as a path (`./x`, `../x`, `/x`, `~/x`, `a/./b`, `-flag`): a name that
 * does is resolved on disk, an id only through its record. Records stored under such an id
 * before this rule stay readable, runnable and removable; an edit of one is refused
 * (INVALID_METADATA): add it again under a valid id.
 */
export const MODEL_ID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.:+-]*)*$/;

export const ioSpecSchema = z.strictObject({
  name: z.string().min(1),
  dataType: caseless(DATA_TYPES, 'upper'),
  shape: z.array(z.union([z.number().int(), z.string(), z.null()])).optional(),
  dtype: z.string().default('float32'),
  description: z.string().default(''),
  optional: z.boolean().default(false),
});
export type IOSpec = z.output<typeof ioSpecSchema>;
export type IOSpecInput = z.input<typeof ioSpecSchema>;

export const qualityMetricSchema = z.strictObject({
  name: z.string().min(1),
  value: z.number().finite(),
  shots: nonNegInt.optional(),
  source: z.string().optional(),
  at: isoDate.optional(),
});
export type QualityMetric = z.output<typeof qualityMetricSchema>;

export const memoryEstimateSchema = z.strictObject({
  weightsBytes: nonNegInt,
  kvCacheBytesPerToken: nonNegInt,
  kvCacheBytes: nonNegInt.optional(),
  overheadBytes: nonNegInt.optional(),
  totalBytes: nonNegInt,
  context: nonNegInt,
  batch: nonNegInt,
  dtype: z.string(),
  kvDtype: z.string().optional(),
  method: z.string().min(1),
});
export type MemoryEstimate = z.output<typeof memoryEstimateSchema>;

/** A GPU's used memory around one load and after its release, as the backend reported it. */
export const measuredVramSchema = z.strictObject({
  device: z.string(),
  deviceName: z.string(),
  totalBytes: nonNegInt,
  beforeLoadBytes: nonNegInt,
  afterLoadBytes: nonNegInt,
  afterReleaseBytes: nonNegInt.optional(),
});

export const measuredSchema = z.strictObject({
  loadTimeMs: z.number().nonnegative(),
  memoryBytes: z.number().int(),
  throughput: z.number().nonnegative().optional(),
  throughputUnit: z.string().optional(),
  device: z.string(),
  /** The GPU kind that computed (cuda, vulkan, metal); absent on the CPU. */
  gpuKind: z.string().optional(),
  vram: z.array(measuredVramSchema).optional(),
  backend: z.string().optional(),
  at: isoDate,
});
export type Measured = z.output<typeof measuredSchema>;

export const modelFileSchema = z.strictObject({
  path: z.string().min(1),
  size: nonNegInt.optional(),
  mtimeMs: z.number().optional(),
  sha256: z.string().optional(),
});
export type ModelFile = z.output<typeof modelFileSchema>;

export const hostLocationSchema = z.strictObject({
  /** The host the copy is on: its `MM_HOST_ID` (default the hostname). */
  host: z.string().min(1),
  /** The model's folder or file there. */
  path: z.string().min(1),
  files: z.array(modelFileSchema).default([]),
  /** When discovery on that host found the copy, or found it changed. */
  seenAt: isoDate,
});
export type HostLocation = z.output<typeof hostLocationSchema>;

export const categorySchema = z.strictObject({
  primary: z.string().min(1),
  secondary: z.string().optional(),
  specialization: z.string().optional(),
  /** Set when a person chose the category; discovery then leaves it alone. */
  manual: z.boolean().optional(),
});
export type ModelCategory = z.output<typeof categorySchema>;

export const modelMetadataSchema = z.strictObject({
  // identity
  modelId: z.string().min(1).max(256).regex(MODEL_ID_PATTERN, 'must look like org/name[-variant] (letters, digits, ._- and /; each part starts with a letter, digit or _, so it never reads as a path)'),
  modelName: z.string().min(1),
  displayName: z.string().optional(),
  description: z.string().default(''),
  author: z.string().optional(),
  version: z.string().optional(),
  license: z.string().optional(),
  sourceUrl: z.string().optional(),
  tags: z.array(z.string().min(1)).default([]),
  /** Named pointers to registry versions, e.g. `{production: 3}`. */
  aliases: z.record(z.string(), z.number().int().positive()).default({}),
  // kind
  modelType: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase().replace(/-/g, '_') : v), z.string().min(1)),
  architecture: z.string().default(''),
  modalities: z.array(caseless(MODALITIES, 'lower')).default([]),
  capabilities: z.array(z.string().min(1)).default([]),
  category: categorySchema.optional(),
  useCases: z.array(z.string()).default([]),
  specializedDomains: z.array(z.string()).default([]),
  languages: z.array(z.string()).default([]),
  // I/O
  inputs: z.array(ioSpecSchema).default([]),
  outputs: z.array(ioSpecSchema).default([]),
  // technical
  huggingfaceConfig: record.optional(),
  format: caseless(FORMATS, 'lower').optional(),
  quantization: z.string().optional(),
  parameterCount: nonNegInt.optional(),
  attentionType: caseless(ATTENTION_TYPES, 'lower').optional(),
  contextLength: nonNegInt.optional(),
  localPath: z.string().optional(),
  /** The hub commit the files at `localPath` came from (set by a pull). */
  revision: z.string().optional(),
  files: z.array(modelFileSchema).default([]),
  /** Copies of the model's files, one per host and folder, in a registry several hosts share (discovery keeps them). */
  locations: z.array(hostLocationSchema).optional(),
  baseModel: z.string().optional(),
  inferenceCodeLocation: z.string().optional(),
  supportedBackends: z.array(z.string()).default([]),
  // resources
  hardwareRequirements: record.optional(),
  resourceRequirements: record.optional(),
  optimizationSettings: record.optional(),
  memoryEstimate: memoryEstimateSchema.optional(),
  // measures
  performanceMetrics: z.record(z.string(), z.number().finite()).default({}),
  qualityMetrics: z.array(qualityMetricSchema).default([]),
  measured: measuredSchema.optional(),
  // bookkeeping
  source: caseless(SOURCES, 'lower').default('manual'),
  /** `missing` when discovery no longer finds the model's files (the entry is kept); `deleted` when deleted without `--hard` (hidden, history kept). */
  status: z.enum(['available', 'missing', 'deleted']).optional(),
  createdAt: isoDate.optional(),
  updatedAt: isoDate.optional(),
  accessLevel: caseless(ACCESS_LEVELS, 'lower').default('public'),
  groups: z.array(z.string()).default([]),
  /** Fields of the user's own (e.g. from a model folder's metadata.json) kept as given. */
  custom: record.optional(),
});

/** A validated, complete model record as the registry stores it. */
export type ModelMetadata = z.output<typeof modelMetadataSchema>;
/** What callers may pass in: defaults fill the rest. `modelName` defaults to the last part of `modelId`. */
export type ModelMetadataInput = Omit<z.input<typeof modelMetadataSchema>, 'modelName'> & { modelName?: string };
