/**
 * The settings of seed 001 as one zod schema: runtime globals (device preference, GPU memory
 * fraction, sharing, embedding cache) and named model configurations (`models.<name>`).
 *
 * Keys are camelCase here; a settings file may spell each the seed's way (`gpu_memory_fraction`,
 * `models.embedding.local_path`), see `settingKey()`. Values are checked by the same parsers the
 * runtime uses for requests, so a setting is refused with the same words a request would be.
 */
import { totalmem } from 'node:os';
import { z } from 'zod';
import { parseDevice } from '../runtime/devices.js';
import { MAX_GENERATION_TOKENS } from '../runtime/generation-limit.js';
import { parseKeepAlive } from '../runtime/keep-alive.js';
import { parseQuantity } from '../units.js';

/** A string a throwing parser accepts, with the parser's own message when it does not. */
function checkedString(parse: (value: string) => unknown) {
  return z.string().superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
    }
  });
}

const device = checkedString(parseDevice);
const keepAlive = z.union([z.number(), checkedString(parseKeepAlive)]);
const positiveInteger = z.number().int().positive();

/** Names a configured model may have: they stand where a model is named, so no slash (registry ids keep theirs). */
export const CONFIGURED_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Task types of a configured model that are the built-in text generation (`text2text` is the seed's name for T5-style models). */
export const TEXT_GENERATION_TYPES: readonly string[] = ['text_generation', 'text2text'];

/** Settings that only an embedding model takes, and those only a text generation model takes. */
const EMBEDDING_ONLY = ['batchSize', 'cacheEmbeddings', 'dimension'] as const;
const GENERATION_ONLY = ['maxInputLength', 'maxOutputLength'] as const;

/** One named model (`models.<name>`): what to load and how to serve it. */
export const modelSettingsSchema = z
  .strictObject({
    /** `embedding`, `text2text` / `text_generation`, or a custom task type a registered backend serves. */
    type: z.string().min(1),
    /** What to load: a registry id, a Hugging Face id or a model path. */
    name: z.string().min(1).optional(),
    /** Where the files are; wins over `name` for loading. In a settings file, relative to the file's folder. */
    localPath: z.string().min(1).optional(),
    /** cpu, gpu, cuda:N or auto. Defaults to the global `devicePreference`. */
    device: device.optional(),
    /** Instances serving it. Defaults to 1. */
    numWorkers: positiveInteger.optional(),
    /** How long it stays loaded once idle (minutes, or "30s", "5m", "1h"; -1 keeps it). Defaults to `sharing.unloadAfterSeconds`. */
    keepAlive: keepAlive.optional(),
    /** Whether callers share one loaded instance that stays for the next caller; false frees it once its callers are done. Defaults to true. */
    shared: z.boolean().default(true),
    /** Embedding: most texts in one backend call. Defaults to 16. */
    batchSize: positiveInteger.optional(),
    /** Embedding: whether its vectors go through the embedding cache. Defaults to true. */
    cacheEmbeddings: z.boolean().optional(),
    /** Embedding: the vector length callers get (shorter than the model's only for Matryoshka models). Defaults to the model's. */
    dimension: positiveInteger.optional(),
    /** Text generation: longest prompt, in tokens; a longer one is refused. */
    maxInputLength: positiveInteger.optional(),
    /** Text generation: most new tokens when a request names none. */
    maxOutputLength: positiveInteger.max(MAX_GENERATION_TOKENS).optional(),
  })
  .superRefine((model, ctx) => {
    if (model.name === undefined && model.localPath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'say what to load: name (a registry id, Hugging Face id or path) or localPath' });
    }
    if (!model.shared && model.keepAlive !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keepAlive'], message: 'a model that is not shared is freed once its callers are done: drop keepAlive or set shared: true' });
    }
    const generates = TEXT_GENERATION_TYPES.includes(model.type);
    const wrong = model.type === 'embedding' ? GENERATION_ONLY : generates ? EMBEDDING_ONLY : [...EMBEDDING_ONLY, ...GENERATION_ONLY];
    for (const key of wrong) {
      if (model[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `a ${model.type} model takes no ${key}` });
    }
  });

const sharingSchema = z.strictObject({
  /** Most models loaded at once. */
  maxSharedModels: positiveInteger.default(3),
  /** Seconds an idle model stays loaded when nothing names a keep-alive; 0 frees at once, -1 keeps. */
  unloadAfterSeconds: z.number().min(-1).default(300),
});

const embeddingCacheSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Entries kept; the least recently used go first. */
  maxCacheSize: z.number().int().nonnegative().default(10_000),
  ttlSeconds: z.number().positive().default(3600),
  /** true: saved in MM_HOME/embedding-cache.json on shutdown and read on start; a string: that file. */
  persistToDisk: z.union([z.boolean(), z.string().min(1)]).default(false),
});

/** Groups of settings, each an object of its own in the file (`sharing.maxSharedModels`). */
const SETTING_GROUPS = { sharing: sharingSchema, embeddingCache: embeddingCacheSchema } as const;

/** Every setting; what a file, the environment or a flag leaves out takes these defaults. */
export const settingsSchema = z.strictObject({
  /** The device of loads that name none (or `auto`): auto, cpu, gpu or cuda:N. */
  devicePreference: device.default('auto'),
  /** Share of each GPU's memory loaded models may take. */
  gpuMemoryFraction: z.number().gt(0).max(1).default(0.9),
  /** Bytes all loaded models may take together: a number or "16GB". Defaults to 80% of this machine's memory. */
  memoryBudget: z.union([z.number().positive(), checkedString((v) => parseQuantity(v, 'memory budget'))])
    .transform((v) => parseQuantity(v))
    .default(() => Math.floor(totalmem() * 0.8)),
  /** Requests that may wait per model before QUEUE_FULL. */
  maxQueue: positiveInteger.default(512),
  sharing: sharingSchema.prefault({}),
  embeddingCache: embeddingCacheSchema.prefault({}),
  /** Named models: callers ask for them by name wherever a model is named. */
  models: z.record(z.string().regex(CONFIGURED_NAME, 'a model name is letters, digits, "_" and "-"'), modelSettingsSchema).default({}),
});

export type Settings = z.output<typeof settingsSchema>;
export type ModelSettings = z.output<typeof modelSettingsSchema>;
/** The settings of one configured model, as code passes them (`ModelManagerOptions.models`). */
export type ConfiguredModelOptions = z.input<typeof modelSettingsSchema>;

/** The fields of a configured model, in order. */
export const MODEL_SETTING_KEYS = Object.keys(modelSettingsSchema.shape) as (keyof ModelSettings)[];

/** Every global setting as a dotted path (`sharing.maxSharedModels`), with the schema of its value. */
export const GLOBAL_SETTINGS: ReadonlyMap<string, z.ZodType> = new Map(
  Object.entries(settingsSchema.shape).flatMap(([key, schema]): [string, z.ZodType][] => {
    if (key === 'models') return [];
    const group = SETTING_GROUPS[key as keyof typeof SETTING_GROUPS];
    return group ? Object.entries(group.shape).map(([inner, s]) => [`${key}.${inner}`, s]) : [[key, schema]];
  }),
);
