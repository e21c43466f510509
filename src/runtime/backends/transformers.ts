/**
 * The `transformers` backend: ONNX models in Hugging Face layout (config.json, tokenizer files,
 * `onnx/model.onnx`, or optimum's encoder and merged decoder for encoder-decoders such as T5)
 * through @huggingface/transformers on onnxruntime-node.
 *
 * Files are only ever read from the model's folder: remote loading is switched off for the
 * process when the backend first loads a model. GPU loads use onnxruntime's CUDA provider when
 * the user installed it (onnx-gpus.ts); without it an instance runs on the CPU and says so in
 * `device` and `warning`.
 */
import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { ModelManagerError } from '../../errors.js';
import type { BackendGpus, Device, EmbeddingParams, InferenceBackend, LoadedModel, LoadOptions, MemoryNeed, ModelLocation, TaskType, WorkerSpec } from './backend.js';
import { DisposeGuard } from './dispose-guard.js';
import { importBackendPackage } from './import-package.js';
import { findOnnxModelFolder } from './model-files.js';
import { onnxGpus } from './onnx-gpus.js';
import { graphBytes, graphFiles, readOnnxExport, type OnnxExport } from './onnx-export.js';
import { sentenceTransformersPooling } from './pooling-config.js';
import { TransformersGenerator } from './transformers-generator.js';
import { l2Normalize } from './vectors.js';

export type Transformers = typeof import('@huggingface/transformers');

const BACKEND = 'transformers';

/** Where an instance computes, and why not where it was asked when it is not. */
export interface TransformersPlacement {
  device: Device;
  gpuKind: string | undefined;
  warning: string | undefined;
}

/** The CUDA device number a GPU device names (`gpu` is the first, or the only one a GPU worker sees). */
function cudaDeviceId(device: Device): number {
  return device.startsWith('cuda:') ? Number(device.slice('cuda:'.length)) : 0;
}

export interface TransformersBackendOptions {
  /** onnxruntime threads per instance. Defaults to onnxruntime's choice (the physical cores). */
  threads?: number;
}

let engine: Promise<Transformers> | undefined;

/** Imports transformers.js once and pins it to local files. */
function loadEngine(): Promise<Transformers> {
  engine ??= importBackendPackage<Transformers>('@huggingface/transformers', BACKEND).then(
    (module) => {
      module.env.allowRemoteModels = false;
      module.env.allowLocalModels = true;
      return module;
    },
    (error: unknown) => {
      engine = undefined;
      throw error;
    },
  );
  return engine;
}

function loadFailed(path: string, reason: string, { cause, onnx }: { cause?: unknown; onnx?: OnnxExport } = {}): ModelManagerError {
  const files = ['config.json', 'tokenizer.json', ...(onnx ? graphFiles(onnx) : ['onnx/model.onnx'])];
  return new ModelManagerError('MODEL_LOAD_FAILED', `transformers could not load ${path}: ${reason.replace(/\.+$/, '')}. Check that the folder holds a complete ONNX export (${files.join(', ')})`, {
    ...(cause === undefined ? {} : { cause }),
    details: { path, backend: BACKEND },
  });
}

export class TransformersBackend implements InferenceBackend {
  readonly name = BACKEND;
  readonly tasks: readonly TaskType[] = ['embedding', 'text_generation'];
  readonly #threads: number | undefined;

  constructor({ threads }: TransformersBackendOptions = {}) {
    this.#threads = threads;
  }

  async supports(location: ModelLocation): Promise<boolean> {
    if (location.format !== undefined && location.format !== 'onnx') return false;
    return (await findOnnxModelFolder(location.path)) !== undefined;
  }

  /** A GPU worker recreates this backend with the same options. */
  workerSpec(): WorkerSpec {
    return { backend: BACKEND, options: this.#threads === undefined ? {} : { threads: this.#threads } };
  }

  /** onnxruntime's CUDA provider and the NVIDIA GPUs, found from files (nothing is imported). */
  async gpus(): Promise<BackendGpus> {
    return onnxGpus();
  }

  /** The graph's size on disk: onnxruntime holds the weights once, its working memory comes on top. */
  async estimateBytes(location: ModelLocation): Promise<number | undefined> {
    const folder = await findOnnxModelFolder(location.path);
    return folder === undefined ? undefined : graphBytes(folder, await readOnnxExport(folder, location.path));
  }

  /** The weights go where the graph runs: GPU memory with the CUDA provider, else RAM. */
  async estimateMemory(location: ModelLocation, device: Device): Promise<MemoryNeed | undefined> {
    const bytes = await this.estimateBytes(location);
    if (bytes === undefined) return undefined;
    return device !== 'cpu' && onnxGpus().kind === 'cuda' ? { ramBytes: 0, vramBytes: bytes } : { ramBytes: bytes, vramBytes: 0 };
  }

  async load({ path, taskType, device }: LoadOptions): Promise<LoadedModel> {
    if (taskType !== 'embedding' && taskType !== 'text_generation') {
      throw new ModelManagerError('UNSUPPORTED_TASK', `transformers runs embedding and text_generation, not "${taskType}"`, { details: { taskType, backend: BACKEND } });
    }
    const folder = await findOnnxModelFolder(path);
    if (!folder) throw loadFailed(path, 'no config.json with an ONNX graph beside it is there');
    const onnx = await readOnnxExport(folder, path);
    if (taskType === 'embedding' && onnx.encoderDecoder) {
      // Its decoder needs tokens to attend from: feature-extraction would fail on the first text.
      throw new ModelManagerError('UNSUPPORTED_TASK', `${folder} is an encoder-decoder (config.json's is_encoder_decoder): it runs text_generation, not embedding`, {
        details: { taskType, path: folder, backend: BACKEND },
      });
    }
    const transformers = await loadEngine();
    const gpus = device === 'cpu' ? undefined : onnxGpus();
    const onCuda = gpus?.kind === 'cuda';
    const placement: TransformersPlacement = {
      device: onCuda ? device : 'cpu',
      gpuKind: onCuda ? 'cuda' : undefined,
      warning: gpus && !onCuda ? `running on the CPU: ${gpus.attempts.map((a) => a.reason).join('; ')} (device "${device}" was asked for)` : undefined,
    };
    const sessionOptions = {
      ...(this.#threads === undefined ? {} : { intraOpNumThreads: this.#threads }),
      ...(onCuda ? { executionProviders: [{ name: 'cuda' as const, deviceId: cudaDeviceId(device) }] } : {}),
    };
    const options = {
      device: onCuda ? ('cuda' as const) : ('cpu' as const),
      dtype: onnx.dtype,
      ...(Object.keys(sessionOptions).length === 0 ? {} : { session_options: sessionOptions }),
    };
    const graph = await graphBytes(folder, onnx);
    const memoryBytes = onCuda ? 0 : graph;
    const vramBytes = onCuda ? graph ?? 0 : 0;
    try {
      if (taskType === 'embedding') {
        const pipe = await transformers.pipeline('feature-extraction', folder, options);
        return new TransformersEmbedder(pipe, memoryBytes, await sentenceTransformersPooling(folder), placement, vramBytes);
      }
      // Encoder-decoder models (T5, BART) generate through text2text-generation, decoders through text-generation.
      const pipe = onnx.encoderDecoder
        ? await transformers.pipeline('text2text-generation', folder, options)
        : await transformers.pipeline('text-generation', folder, options);
      return new TransformersGenerator(pipe, transformers, memoryBytes, placement, vramBytes);
    } catch (error) {
      throw loadFailed(folder, error instanceof Error ? error.message : String(error), { cause: error, onnx });
    }
  }
}

class TransformersEmbedder implements LoadedModel {
  readonly backend = BACKEND;
  readonly device: Device;
  readonly gpuKind: string | undefined;
  readonly warning: string | undefined;
  readonly dimensions: number | undefined;
  readonly #guard = new DisposeGuard(BACKEND);

  constructor(
    private readonly pipe: FeatureExtractionPipeline,
    readonly memoryBytes: number | undefined,
    private readonly defaultPooling: 'mean' | 'cls',
    { device, gpuKind, warning }: TransformersPlacement,
    readonly vramBytes: number,
  ) {
    this.device = device;
    this.gpuKind = gpuKind;
    this.warning = warning;
    const hidden = (pipe.model.config as { hidden_size?: unknown }).hidden_size;
    this.dimensions = typeof hidden === 'number' ? hidden : undefined;
  }

  async embed(texts: readonly string[], { pooling = this.defaultPooling, normalize = true }: EmbeddingParams): Promise<number[][]> {
    this.#guard.ensureNotDisposed();
    if (pooling === 'none') {
      throw new ModelManagerError('INVALID_ARGUMENT', 'pooling "none" gives one vector per token, not one per text: use "mean" or "cls"', {
        details: { pooling, backend: BACKEND },
      });
    }
    if (texts.length === 0) return [];
    // One batched run: the tokenizer pads to the longest text and the mask keeps padding out of the mean.
    const output = await this.pipe([...texts], { pooling, normalize: false });
    const vectors = output.tolist() as number[][];
    return normalize ? vectors.map(l2Normalize) : vectors;
  }

  countTokens(texts: readonly string[]): number[] {
    this.#guard.ensureNotDisposed();
    // The pipeline truncates to the model's limit, so the model never reads more.
    const limit = Number(this.pipe.tokenizer.model_max_length);
    return texts.map((t) => Math.min(this.pipe.tokenizer.encode(t).length, limit));
  }

  async dispose(): Promise<void> {
    if (this.#guard.dispose()) await this.pipe.dispose();
  }
}
