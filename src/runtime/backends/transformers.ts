/**
 * The `transformers` backend: ONNX models in Hugging Face layout (config.json, tokenizer files,
 * `onnx/model.onnx`) through @huggingface/transformers on onnxruntime-node, on the CPU.
 *
 * Files are only ever read from the model's folder: remote loading is switched off for the
 * process when the backend first loads a model. onnxruntime-node as installed has no GPU
 * execution provider on Linux, so every instance runs on the CPU and says so in `device`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { ModelManagerError } from '../../errors.js';
import type { EmbeddingParams, InferenceBackend, LoadedModel, LoadOptions, ModelLocation, TaskType } from './backend.js';
import { importBackendPackage } from './import-package.js';
import { findOnnxModelFolder, onnxGraphOf } from './model-files.js';
import { sentenceTransformersPooling } from './pooling-config.js';
import { TransformersGenerator } from './transformers-generator.js';
import { l2Normalize } from './vectors.js';

export type Transformers = typeof import('@huggingface/transformers');

const BACKEND = 'transformers';

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

function loadFailed(path: string, reason: string, cause?: unknown): ModelManagerError {
  return new ModelManagerError('MODEL_LOAD_FAILED', `transformers could not load ${path}: ${reason.replace(/\.+$/, '')}. Check that the folder holds a complete ONNX export (config.json, tokenizer.json, onnx/model.onnx)`, {
    ...(cause === undefined ? {} : { cause }),
    details: { path, backend: BACKEND },
  });
}

/** Bytes of the graph transformers.js will load (`model.onnx`, or the variant's), external data included. */
async function graphBytes(folder: string, graph = 'model.onnx'): Promise<number | undefined> {
  for (const dir of [join(folder, 'onnx'), folder]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    if (!names.includes(graph)) continue;
    const parts = names.filter((n) => n === graph || (n.startsWith(`${graph}_data`) && /_data(_\d+)?$/.test(n)));
    const sizes = await Promise.all(parts.map((n) => stat(join(dir, n)).then((s) => s.size)));
    return sizes.reduce((a, b) => a + b, 0);
  }
  return undefined;
}

async function isEncoderDecoder(folder: string): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as { is_encoder_decoder?: unknown };
    return config.is_encoder_decoder === true;
  } catch {
    return false; // the pipeline reports an unreadable config with its own words
  }
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

  /** The graph's size on disk: onnxruntime holds the weights once, its working memory comes on top. */
  async estimateBytes(location: ModelLocation): Promise<number | undefined> {
    const folder = await findOnnxModelFolder(location.path);
    return folder === undefined ? undefined : graphBytes(folder, onnxGraphOf(location.path).file);
  }

  async load({ path, taskType, device }: LoadOptions): Promise<LoadedModel> {
    if (taskType !== 'embedding' && taskType !== 'text_generation') {
      throw new ModelManagerError('UNSUPPORTED_TASK', `transformers runs embedding and text_generation, not "${taskType}"`, { details: { taskType, backend: BACKEND } });
    }
    const folder = await findOnnxModelFolder(path);
    if (!folder) throw loadFailed(path, 'no config.json with an ONNX graph beside it is there');
    const transformers = await loadEngine();
    const graph = onnxGraphOf(path);
    const options = {
      device: 'cpu' as const,
      dtype: graph.dtype,
      ...(this.#threads === undefined ? {} : { session_options: { intraOpNumThreads: this.#threads } }),
    };
    const memoryBytes = await graphBytes(folder, graph.file);
    const warning = device === 'cpu' ? undefined : `running on the CPU: the transformers backend has no GPU execution provider here (device "${device}" was asked for)`;
    try {
      if (taskType === 'embedding') {
        const pipe = await transformers.pipeline('feature-extraction', folder, options);
        return new TransformersEmbedder(pipe, memoryBytes, await sentenceTransformersPooling(folder), warning);
      }
      // Encoder-decoder models (T5, BART) generate through text2text-generation, decoders through text-generation.
      const pipe = (await isEncoderDecoder(folder))
        ? await transformers.pipeline('text2text-generation', folder, options)
        : await transformers.pipeline('text-generation', folder, options);
      return new TransformersGenerator(pipe, transformers, memoryBytes, warning);
    } catch (error) {
      throw loadFailed(folder, error instanceof Error ? error.message : String(error), error);
    }
  }
}

class TransformersEmbedder implements LoadedModel {
  readonly backend = BACKEND;
  readonly device = 'cpu' as const;
  readonly dimensions: number | undefined;
  #disposed = false;

  constructor(
    private readonly pipe: FeatureExtractionPipeline,
    readonly memoryBytes: number | undefined,
    private readonly defaultPooling: 'mean' | 'cls',
    readonly warning: string | undefined,
  ) {
    const hidden = (pipe.model.config as { hidden_size?: unknown }).hidden_size;
    this.dimensions = typeof hidden === 'number' ? hidden : undefined;
  }

  async embed(texts: readonly string[], { pooling = this.defaultPooling, normalize = true }: EmbeddingParams): Promise<number[][]> {
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

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.pipe.dispose();
  }
}
