/**
 * The interface between the runtime (ModelManager) and the engines that run models.
 *
 * A backend loads one instance of a model on one device; the manager owns sharing, reference
 * counts, keep-alive, budgets and batching. Built-in backends: `transformers` (ONNX through
 * @huggingface/transformers on onnxruntime-node) and `llama-cpp` (GGUF through node-llama-cpp).
 * Users can register their own for new formats or task types.
 */
import type { ModelMetadata } from '../../registry/schema.js';

/** Built-in task types; custom backends may add their own names. */
export type TaskType = 'embedding' | 'text_generation' | (string & {});

/**
 * A device as the manager resolved it: `cpu`, `cuda:N` for the Nth GPU the backend uses (whatever
 * its kind: CUDA, Vulkan or Metal, as PyTorch names ROCm GPUs `cuda:N` too), or `gpu` for a model
 * spread over several GPUs.
 */
export type Device = 'cpu' | 'gpu' | `cuda:${number}`;

/** One GPU kind a backend tried, and why it is not used when it is not. */
export interface GpuAttempt {
  /** `cuda`, `vulkan`, `metal` (llama.cpp's prebuilt binaries), or onnxruntime's `cuda` provider. */
  kind: string;
  ok: boolean;
  /** Why this kind cannot be used (a missing library, a driver that aborted, no device). */
  reason?: string;
}

/** The GPUs a backend can compute on, found once per process. */
export interface BackendGpus {
  /** The GPU kind in use, or false when none works (the backend then runs on the CPU). */
  kind: string | false;
  /** Names of the usable GPUs; `cuda:N` is the Nth. */
  devices: string[];
  /** Every kind tried, in order: the first that worked is `kind`. */
  attempts: GpuAttempt[];
}

/**
 * How a GPU worker process recreates a backend: one of the built-in backends, by name, with its
 * options (structured-clone data: they cross to the worker).
 */
export interface WorkerSpec {
  backend: 'llama-cpp' | 'transformers';
  options: Record<string, unknown>;
}

/** Memory one instance needs: RAM in the process that holds it, and memory on its GPU. */
export interface MemoryNeed {
  ramBytes: number;
  vramBytes: number;
}

export interface LoadOptions {
  /** Folder or file of the model on disk. */
  path: string;
  /** The registry entry, when the model is registered. */
  model?: ModelMetadata;
  /** Which task the instance will serve (an encoder-decoder and a causal LM load differently). */
  taskType: TaskType;
  device: Device;
  /** Aborts a load still in flight (e.g. on shutdown). */
  signal?: AbortSignal;
}

export interface EmbeddingParams {
  /** Defaults to the model's own (mean for most sentence embedders). */
  pooling?: 'mean' | 'cls' | 'none';
  /** L2-normalise each vector. Defaults to true. */
  normalize?: boolean;
}

export interface GenerationParams {
  /** Most new tokens to generate. Defaults to 256 in the built-in backends. */
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  stop?: readonly string[];
  /** Receives the text as it is generated, piece by piece (streaming). */
  onToken?: (text: string) => void;
  /** Stops the generation at the next token; the text so far is returned. */
  signal?: AbortSignal;
}

export interface GenerationOutput {
  text: string;
  /** Tokens generated, as sampled: text held back unfinished (a partial UTF-8 character, a possible stop string) counts too. */
  tokens: number;
  /** Tokens of the prompt as the model's tokenizer made them, when the backend can tell. */
  promptTokens?: number;
  /** Why generation ended, when the backend knows: `length` when maxTokens was reached. */
  finishReason?: 'stop' | 'length';
}

/** One loaded instance of a model on one device. */
export interface LoadedModel {
  readonly backend: string;
  readonly device: Device;
  /** Bytes of RAM this instance holds, when the backend can tell (else the manager measures). */
  readonly memoryBytes?: number;
  /** Bytes of GPU memory this instance holds (0 or absent on the CPU). */
  readonly vramBytes?: number;
  /** Vector length of embeddings, when known. */
  readonly dimensions?: number;
  /** Set when the instance runs elsewhere than asked (e.g. on the CPU because the GPU failed its check). */
  readonly warning?: string | undefined;
  /** The GPU kind it computes on (`cuda`, `vulkan`, `metal`); absent on the CPU. */
  readonly gpuKind?: string | undefined;
  embed?(texts: readonly string[], params: EmbeddingParams): Promise<number[][]>;
  /** Tokens each text is read as by embed(), or each prompt by generate() (special tokens added, truncation applied): usage figures and prompt limits. */
  countTokens?(texts: readonly string[]): number[] | Promise<number[]>;
  generate?(prompt: string, params: GenerationParams): Promise<GenerationOutput>;
  /** Custom task types of user backends. */
  run?(taskType: TaskType, data: unknown, params: Record<string, unknown>): Promise<unknown>;
  /** Frees the instance's memory; idempotent. */
  dispose(): Promise<void>;
}

export interface ModelLocation {
  path: string;
  format?: string;
  model?: ModelMetadata;
}

export interface InferenceBackend {
  readonly name: string;
  /** Task types this backend can serve. */
  readonly tasks: readonly TaskType[];
  /** True when this backend can load the model at `location` (by format and files). */
  supports(location: ModelLocation): boolean | Promise<boolean>;
  load(options: LoadOptions): Promise<LoadedModel>;
  /** Bytes one instance will need on `device` (the device the load will ask for), to check the memory budget before loading. */
  estimateBytes?(location: ModelLocation, device?: Device): Promise<number | undefined>;
  /** RAM and GPU memory one instance will need on `device`; preferred to `estimateBytes` when both exist. */
  estimateMemory?(location: ModelLocation, device: Device): Promise<MemoryNeed | undefined>;
  /**
   * The GPUs this backend can use, asked only when a load may use one (so a backend's GPU probe
   * never runs for another backend's model). Without it, the manager's `gpuCount` applies.
   */
  gpus?(): Promise<BackendGpus>;
  /**
   * How a GPU worker recreates this backend. Backends that have it (the built-in ones) load on a
   * GPU in a worker process per GPU; others load in the manager's process.
   */
  workerSpec?(): WorkerSpec;
}
