/**
 * Memory a model needs to run: weights + KV cache + runtime overhead, with how each was found.
 */
import { ModelManagerError } from '../errors.js';
import type { AttentionType, MemoryEstimate, ModelMetadata } from '../registry/index.js';
import { attentionTypeOfShape } from './attention.js';
import { transformerShape, type HfConfig } from './config-shape.js';
import { bytesPerElement, normalizeDtype, parseDtype, type Dtype } from './dtype.js';
import { kvCacheElements, kvCacheShape } from './kv-cache.js';
import { countParametersFromConfig } from './parameters.js';

/** Context used when none is asked for: the model's own, capped so estimates stay comparable. */
export const DEFAULT_ESTIMATE_CONTEXT = 4096;
/** Fixed runtime cost (CUDA context, allocator, buffers), plus a share of weights and cache for activations. */
export const OVERHEAD_FIXED_BYTES = 256 * 1024 * 1024;
export const OVERHEAD_FRACTION = 0.05;

export interface MemoryEstimateOptions {
  /** Tokens per sequence. Defaults to the model's context length, at most 4096. */
  context?: number;
  /** Sequences held at once. Defaults to 1. */
  batch?: number;
  /** Weight dtype (fp16, bf16, fp32, int8, q4_k_m, ...). Defaults to the model's quantization, else its published dtype, else fp16. */
  dtype?: string;
  /** KV cache dtype. Defaults to fp16. */
  kvDtype?: string;
  /** Parameter count to use. Defaults to the model's, else one computed from the config. */
  parameterCount?: number;
  /** Where `parameterCount` came from (e.g. `safetensors`), recorded in `method`. Defaults to `given`. */
  parameterMethod?: string;
}

/** An estimate with its parts; `toMemoryEstimate` keeps what the registry stores. */
export interface MemoryEstimateReport extends MemoryEstimate {
  kvCacheBytes: number;
  overheadBytes: number;
  parameterCount?: number;
  /** `safetensors`, `gguf`, `registry`, or `config:<family>`. */
  parameterMethod?: string;
  attentionType?: AttentionType;
  /** The model's maximum context length, when known. */
  contextLength?: number;
  slidingWindow?: number;
  /** What could not be sized (e.g. no KV heads in the config). */
  warnings: string[];
}

function isModel(input: ModelMetadata | HfConfig): input is ModelMetadata {
  return typeof input.modelId === 'string' && typeof input.modelType === 'string';
}

/** Picks the weights' dtype: asked for, else the model's quantization, else the published dtype. */
function weightsDtype(options: MemoryEstimateOptions, model: ModelMetadata | undefined, config: HfConfig): { dtype: Dtype; from: string } {
  if (options.dtype) return { dtype: parseDtype(options.dtype), from: 'asked' };
  const quantized = model?.quantization && normalizeDtype(model.quantization);
  if (quantized) return { dtype: quantized, from: 'quantization' };
  const qc = config.quantization_config as { bits?: unknown; load_in_4bit?: unknown; load_in_8bit?: unknown } | undefined;
  if (qc && typeof qc === 'object') {
    if (qc.bits === 4 || qc.load_in_4bit === true) return { dtype: 'int4', from: 'quantization_config' };
    if (qc.bits === 8 || qc.load_in_8bit === true) return { dtype: 'int8', from: 'quantization_config' };
  }
  const published = transformerShape(config).torchDtype;
  const dtype = published ? normalizeDtype(published) : undefined;
  return dtype ? { dtype, from: 'config' } : { dtype: 'float16', from: 'default' };
}

/**
 * Estimates the memory to run a model (a registry record or a bare Hugging Face config).
 * KV cache = 2 x layers x kvHeads x headDim x bytes per token (MLA: the latent), times context
 * (sliding-window layers stop at their window) and batch. GGUF models weigh what their files do.
 */
export function estimateMemory(input: ModelMetadata | HfConfig, options: MemoryEstimateOptions = {}): MemoryEstimateReport {
  const model = isModel(input) ? input : undefined;
  const config: HfConfig = model ? (model.huggingfaceConfig ?? {}) : input;
  const { batch = 1 } = options;
  const warnings: string[] = [];
  const shape = transformerShape(config);
  const contextLength = shape.contextLength ?? model?.contextLength;
  const context = options.context ?? Math.min(contextLength ?? DEFAULT_ESTIMATE_CONTEXT, DEFAULT_ESTIMATE_CONTEXT);
  for (const [name, value] of [['context', context], ['batch', batch]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ModelManagerError('INVALID_ARGUMENT', `${name} must be a whole number of ${name === 'context' ? 'tokens' : 'sequences'}, not ${value}`, { details: { [name]: value } });
    }
  }

  let parameterCount = options.parameterCount ?? model?.parameterCount;
  // A registry record keeps where its count came from in the stored estimate's method.
  const storedMethod = model?.memoryEstimate ? /params: ([^;]+)/.exec(model.memoryEstimate.method)?.[1] : undefined;
  let parameterMethod = options.parameterCount !== undefined ? (options.parameterMethod ?? 'given') : parameterCount !== undefined ? (storedMethod ?? 'registry') : undefined;
  if (parameterCount === undefined) {
    const counted = countParametersFromConfig(config);
    if (counted) ({ parameters: parameterCount, method: parameterMethod } = counted);
  }

  const { dtype, from } = weightsDtype(options, model, config);
  let weightsBytes: number;
  let weightsMethod: string;
  const ggufBytes = model?.format === 'gguf' ? model.files.filter((f) => f.path.endsWith('.gguf')).reduce((a, f) => a + (f.size ?? 0), 0) : 0;
  if (!options.dtype && ggufBytes > 0) {
    weightsBytes = ggufBytes;
    weightsMethod = 'gguf file bytes';
  } else if (parameterCount !== undefined) {
    weightsBytes = Math.ceil(parameterCount * bytesPerElement(dtype));
    weightsMethod = `${dtype}${from === 'asked' ? '' : ` (${from})`}`;
  } else {
    weightsBytes = model?.files.reduce((a, f) => a + (f.size ?? 0), 0) ?? 0;
    weightsMethod = 'file bytes';
    warnings.push(weightsBytes > 0 ? 'parameter count unknown: weights sized by their files' : 'parameter count unknown: weights not sized');
  }

  const kvDtype = parseDtype(options.kvDtype ?? 'float16');
  const encoderOnly = model?.modelType === 'encoder_only' || model?.modelType === 'embedding_model' || /For(MaskedLM|SequenceClassification|TokenClassification|QuestionAnswering)$|^(Bert|Roberta|XLMRoberta)Model$/.test(String((config.architectures as unknown[] | undefined)?.[0] ?? ''));
  const kv = kvCacheShape(shape, encoderOnly);
  let kvCacheBytesPerToken = 0;
  let kvCacheBytes = 0;
  if (kv) {
    kvCacheBytesPerToken = Math.ceil(kv.elementsPerToken * bytesPerElement(kvDtype));
    kvCacheBytes = Math.ceil(kvCacheElements(kv, shape, context) * bytesPerElement(kvDtype)) * batch;
  } else {
    warnings.push('the config names no layer/head sizes: KV cache not sized');
  }
  const overheadBytes = Math.ceil(OVERHEAD_FIXED_BYTES + OVERHEAD_FRACTION * (weightsBytes + kvCacheBytes));
  const window = shape.slidingWindow !== undefined ? `, window ${shape.slidingWindow} on ${shape.slidingLayers}/${kv?.layers ?? shape.layers} layers` : '';
  const method = [
    `params: ${parameterMethod ?? 'unknown'}`,
    `weights: ${weightsMethod}`,
    `kv: ${kv ? `${kv.method} ${kvDtype}${window}` : 'unknown'}`,
    `overhead: 256MiB+${OVERHEAD_FRACTION * 100}%`,
  ].join('; ');
  const report: MemoryEstimateReport = {
    weightsBytes, kvCacheBytesPerToken, kvCacheBytes, overheadBytes,
    totalBytes: weightsBytes + kvCacheBytes + overheadBytes,
    context, batch, dtype, kvDtype, method, warnings,
  };
  if (parameterCount !== undefined) report.parameterCount = parameterCount;
  if (parameterMethod !== undefined) report.parameterMethod = parameterMethod;
  const attention = attentionTypeOfShape(shape) ?? model?.attentionType;
  if (attention) report.attentionType = attention;
  if (contextLength !== undefined) report.contextLength = contextLength;
  if (shape.slidingWindow !== undefined) report.slidingWindow = shape.slidingWindow;
  return report;
}

/** The fields of a report the registry stores as `memoryEstimate`. */
export function toMemoryEstimate(report: MemoryEstimateReport): MemoryEstimate {
  const { weightsBytes, kvCacheBytesPerToken, kvCacheBytes, overheadBytes, totalBytes, context, batch, dtype, kvDtype, method } = report;
  return { weightsBytes, kvCacheBytesPerToken, kvCacheBytes, overheadBytes, totalBytes, context, batch, dtype, kvDtype, method };
}
