/**
 * Checks what a caller passed to task() before any model is loaded, so a malformed request
 * costs nothing and says what shape was expected. One request object in, whichever spelling the
 * caller used (ours, or the seed's `task_data`, `max_length`, ...), one checked `TaskInput` out:
 * nothing after this checks the request again.
 */
import { ModelManagerError } from '../errors.js';
import type { EmbeddingParams, GenerationParams, TaskType } from './backends/backend.js';
import { checkTaskType, configuredLoad, type ConfiguredModel } from './configured-models.js';
import { parseDevice, type DeviceRequest } from './devices.js';
import { MAX_GENERATION_TOKENS } from './generation-limit.js';
import { parseKeepAlive, type KeepAlive } from './keep-alive.js';

/** Most texts one embedding request may carry. */
export const MAX_TEXTS_PER_REQUEST = 4096;
/** Most instances one model may have. */
export const MAX_WORKERS = 64;
export { MAX_GENERATION_TOKENS };

/** The seed's spellings (its Python keyword arguments) of the request's fields. */
const FIELD_SPELLINGS: ReadonlyMap<string, string> = new Map([
  ['task_data', 'taskData'], ['task_type', 'taskType'], ['model_name', 'modelName'], ['num_workers', 'numWorkers'], ['keep_alive', 'keepAlive'],
]);

/** Other names of the built-in task types' parameters: the seed's, transformers' and OpenAI's. */
const PARAMETER_SPELLINGS: ReadonlyMap<string, string> = new Map([
  ['maxLength', 'maxTokens'], ['max_length', 'maxTokens'], ['maxNewTokens', 'maxTokens'], ['max_new_tokens', 'maxTokens'], ['max_tokens', 'maxTokens'],
  ['top_k', 'topK'], ['top_p', 'topP'],
]);

/** Fields of every request; everything else in a request is a parameter of its task type. */
const REQUEST_FIELDS = new Set(['taskData', 'taskType', 'modelName', 'numWorkers', 'device', 'keepAlive', 'onToken', 'signal']);

/** The parameters each built-in task type takes; a custom task type's backend gets whatever was sent. */
const PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  embedding: ['pooling', 'normalize', 'dimensions', 'countTokens'],
  text_generation: ['maxTokens', 'temperature', 'topK', 'topP', 'seed', 'stop'],
};

/** How a request wants its model loaded, as sent (task() fields, getModel() options); parseLoadRequest() checks it. */
export interface LoadFields {
  numWorkers?: unknown;
  device?: unknown;
  keepAlive?: unknown;
}

/** How a request wants its model loaded, checked. Workers and device apply when the model loads; a keep-alive whenever it is given. */
export interface LoadRequest {
  /** Instances serving the model, 1 to MAX_WORKERS (on GPUs capped by the GPUs found). */
  workers: number;
  device: DeviceRequest;
  /** undefined: the manager's default for a new load, what it has for a loaded model. */
  keepAliveMs: number | undefined;
}

interface InputBase {
  taskType: TaskType;
  modelName: string;
  load: LoadRequest;
  /** The caller's: when it aborts, the task stops (queued: dropped; generating: at the next token) and fails with CANCELLED. */
  signal: AbortSignal | undefined;
  /** The configured model `modelName` names, whose settings filled in what the request left out. */
  configured: ConfiguredModel | undefined;
}

export interface EmbeddingInput extends InputBase {
  kind: 'embedding';
  /** null preloads. */
  texts: string[] | null;
  params: EmbeddingParams;
  /** Shorter vectors asked for (Matryoshka models only). */
  dimensions: number | undefined;
  /** Count the tokens the texts are read as (`usage.tokens`): one more tokenization, so only on request. */
  countTokens: boolean;
  /** Whether the vectors go through the embedding cache (a configured model may opt out). */
  useCache: boolean;
}

export interface GenerationInput extends InputBase {
  kind: 'text_generation';
  /** null preloads. */
  prompt: string | null;
  /** maxTokens, sampling and stop strings; the caller's signal and onToken are kept apart. */
  params: GenerationParams;
  onToken: ((text: string) => void) | undefined;
  /** Longest prompt, in tokens, that a configured model takes. */
  maxPromptTokens: number | undefined;
}

export interface CustomInput extends InputBase {
  kind: 'custom';
  /** null preloads. */
  data: unknown;
  params: Record<string, unknown>;
}

/** A task() request once checked: one typed object for the whole way to the backend. */
export type TaskInput = EmbeddingInput | GenerationInput | CustomInput;

function invalid(message: string, details: Record<string, unknown> = {}): ModelManagerError {
  return new ModelManagerError('INVALID_TASK_DATA', message, { details });
}

function invalidArgument(message: string, details: Record<string, unknown> = {}): ModelManagerError {
  return new ModelManagerError('INVALID_ARGUMENT', message, { details });
}

/**
 * The request with our spelling of each field and, for a built-in task type, of each parameter
 * (`task_data` is `taskData`, `max_length` is `maxTokens`); fields set to undefined are left out.
 * @throws INVALID_ARGUMENT when two spellings of one field disagree
 */
export function respellTaskRequest(request: object, defaultTaskType?: TaskType): Record<string, unknown> {
  const sent = request as Record<string, unknown>;
  const taskType = sent.taskType ?? sent.task_type ?? defaultTaskType;
  const builtIn = typeof taskType === 'string' && Object.hasOwn(PARAMETERS, taskType);
  const ours = (key: string) => FIELD_SPELLINGS.get(key) ?? (builtIn ? PARAMETER_SPELLINGS.get(key) : undefined) ?? key;
  const out: Record<string, unknown> = {};
  // One pass and no intermediate arrays: this runs on every task().
  for (const key in sent) {
    const value = sent[key];
    if (value === undefined || !Object.hasOwn(sent, key)) continue;
    // An own "__proto__" (JSON.parse makes one) would replace the prototype of what is built from it.
    if (key === '__proto__') throw invalidArgument('"__proto__" is not a task parameter');
    const name = ours(key);
    if (Object.hasOwn(out, name) && out[name] !== value) {
      const other = Object.keys(sent).find((k) => k !== key && sent[k] !== undefined && ours(k) === name);
      throw invalidArgument(`"${other}" and "${key}" both set ${name}, to different values: send one of them`, { fields: [other, key] });
    }
    out[name] = value;
  }
  return out;
}

/** The configured model a name stands for, if any (ModelManager's settings `models.<name>`). */
export type ConfiguredLookup = (name: string) => ConfiguredModel | undefined;

/**
 * Checks a task() request: required fields, the task data for the task type, every parameter of
 * a built-in task type (an unknown one is INVALID_ARGUMENT naming it, never ignored), the caller's
 * signal and onToken. When `modelName` is a configured model, its settings fill in what the
 * request leaves out (the task type too) and a task type it is not configured for is refused.
 * @throws ModelManagerError (INVALID_ARGUMENT, INVALID_TASK_DATA, INVALID_MODEL_TYPE)
 */
export function parseTaskRequest(request: unknown, configuredModel: ConfiguredLookup = () => undefined): TaskInput {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw invalidArgument('task() takes one request object');
  const named = (request as Record<string, unknown>).modelName ?? (request as Record<string, unknown>).model_name;
  const configured = typeof named === 'string' ? configuredModel(named) : undefined;
  const fields = respellTaskRequest(request, configured?.taskType);
  const { taskData, modelName, onToken, signal } = fields;
  const taskType = fields.taskType ?? configured?.taskType;
  if (typeof taskType !== 'string' || taskType === '') throw invalidArgument('taskType is required: embedding, text_generation, or a registered custom type');
  if (typeof modelName !== 'string') throw invalidArgument('modelName is required: a registry id, a Hugging Face id, a model path or a configured model');
  if (configured) checkTaskType(configured, taskType);
  if (taskData === undefined) throw invalid('taskData is required: the input, or null to only load the model');
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgument('signal must be an AbortSignal');
  if (onToken !== undefined && typeof onToken !== 'function') throw invalidArgument('onToken must be a function: it receives each piece of generated text');
  const given: LoadFields = { numWorkers: fields.numWorkers, device: fields.device, keepAlive: fields.keepAlive };
  const load = parseLoadRequest(configured ? configuredLoad(configured, given) : given);
  const base = { taskType, modelName, load, signal, configured };

  const known = PARAMETERS[taskType];
  if (!known) {
    const params: Record<string, unknown> = {};
    for (const key in fields) if (!REQUEST_FIELDS.has(key)) params[key] = fields[key];
    return { kind: 'custom', ...base, data: taskData, params };
  }
  let unknown: string[] | undefined;
  for (const key in fields) if (!REQUEST_FIELDS.has(key) && !known.includes(key)) (unknown ??= []).push(key);
  if (unknown) {
    const names = unknown.map((n) => `"${n}"`).join(', ');
    throw invalidArgument(`${taskType} takes no parameter ${names}: it takes ${known.join(', ')} (and taskData, taskType, modelName, numWorkers, device, keepAlive)`, {
      unknown, accepted: known,
    });
  }
  if (taskType === 'embedding') {
    const { dimensions, countTokens } = fields;
    if (countTokens !== undefined && typeof countTokens !== 'boolean') throw invalid(`countTokens must be true or false, got ${describe(countTokens)}`);
    return {
      kind: 'embedding', ...base,
      texts: taskData === null ? null : embeddingTexts(taskData),
      params: embeddingParams(fields),
      dimensions: dimensions === undefined ? configured?.dimension : integer('dimensions', dimensions, 1),
      countTokens: countTokens === true,
      useCache: configured?.cacheEmbeddings ?? true,
    };
  }
  const maxOutput = configured?.maxOutputLength;
  return {
    kind: 'text_generation', ...base,
    prompt: taskData === null ? null : generationPrompt(taskData),
    params: { ...(maxOutput === undefined ? {} : { maxTokens: maxOutput }), ...generationParams(fields) },
    onToken: onToken as ((text: string) => void) | undefined,
    maxPromptTokens: configured?.maxInputLength,
  };
}

/** Checks how a request wants its model loaded (task() and getModel() alike). @throws INVALID_ARGUMENT */
export function parseLoadRequest({ numWorkers, device = 'auto', keepAlive }: LoadFields): LoadRequest {
  const workers = numWorkers ?? 1;
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw invalidArgument(`numWorkers must be an integer from 1 to ${MAX_WORKERS}`, { numWorkers: workers });
  }
  return {
    workers,
    device: device === 'auto' ? device : parseDevice(String(device)),
    keepAliveMs: keepAlive === undefined ? undefined : parseKeepAlive(keepAlive as KeepAlive),
  };
}

/** True when the request only loads the model (its taskData is null). */
export function isPreload(input: TaskInput): boolean {
  return input.kind === 'embedding' ? input.texts === null : input.kind === 'text_generation' ? input.prompt === null : input.data === null;
}

/** Texts of an embedding request: a string or a non-empty list of strings. */
export function embeddingTexts(data: unknown): string[] {
  const texts = typeof data === 'string' ? [data] : data;
  if (!Array.isArray(texts)) throw invalid(`embedding taskData must be a string or a list of strings, got ${describe(data)}`, { got: describe(data) });
  if (texts.length === 0) throw invalid('embedding taskData is an empty list: pass at least one text');
  if (texts.length > MAX_TEXTS_PER_REQUEST) throw invalid(`embedding taskData has ${texts.length} texts; send at most ${MAX_TEXTS_PER_REQUEST} per request`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw invalid(`embedding taskData[${i}] must be a string, got ${describe(t)}`, { index: i });
  });
  return texts as string[];
}

/** The prompt of a text_generation request: a string (or a list holding one). */
export function generationPrompt(data: unknown): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data) && data.length === 1 && typeof data[0] === 'string') return data[0];
  throw invalid(`text_generation taskData must be one prompt string, got ${describe(data)}`, { got: describe(data) });
}

export function embeddingParams(params: Record<string, unknown>): EmbeddingParams {
  const out: EmbeddingParams = {};
  const { pooling, normalize } = params;
  if (pooling !== undefined) {
    if (pooling !== 'mean' && pooling !== 'cls' && pooling !== 'none') throw invalid(`pooling must be mean, cls or none, got ${describe(pooling)}`);
    out.pooling = pooling;
  }
  if (normalize !== undefined) {
    if (typeof normalize !== 'boolean') throw invalid(`normalize must be true or false, got ${describe(normalize)}`);
    out.normalize = normalize;
  }
  return out;
}

/** The identity of embedding parameters: requests with the same key are batched together and share cache entries. */
export function embeddingParamsKey({ pooling, normalize }: EmbeddingParams): string {
  return `${pooling ?? ''}|${normalize ?? ''}`;
}

/** The sampling and length parameters of a generation (task() and model handles alike). */
export function generationParams(params: Record<string, unknown>): GenerationParams {
  const out: GenerationParams = {};
  if (params.maxTokens !== undefined) out.maxTokens = integer('maxTokens', params.maxTokens, 1, MAX_GENERATION_TOKENS);
  if (params.temperature !== undefined) out.temperature = number('temperature', params.temperature, 0);
  if (params.topK !== undefined) out.topK = integer('topK', params.topK, 0);
  if (params.topP !== undefined) out.topP = number('topP', params.topP, 0, 1);
  if (params.seed !== undefined) out.seed = integer('seed', params.seed, 0);
  if (params.stop !== undefined) {
    const stop = typeof params.stop === 'string' ? [params.stop] : params.stop;
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')) throw invalid('stop must be a string or a list of strings');
    out.stop = stop as string[];
  }
  return out;
}

function number(name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${name} must be a number${max === Infinity ? ` >= ${min}` : ` from ${min} to ${max}`}, got ${describe(value)}`, { [name]: value });
  }
  return value;
}

function integer(name: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer${max === Infinity ? ` >= ${min}` : ` from ${min} to ${max}`}, got ${describe(value)}`, { [name]: value, ...(max === Infinity ? {} : { max }) });
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' ? 'a string' : typeof value;
}
