/**
 * Hugging Face config (+ card, tokenizer config, safetensors summary) -> ModelMetadata.
 * Pure: no files, no network. `importFromHuggingFace` gathers the inputs and calls this.
 */
import {
  attentionTypeOfShape, countParametersFromConfig, estimateMemory, toMemoryEstimate, transformerShape, type MemoryEstimateOptions, type HfConfig,
} from '../estimate/index.js';
import { validateModel, type ModelFile, type ModelFormat, type ModelMetadata, type ModelMetadataInput } from '../registry/index.js';
import type { ModelCard } from './model-card.js';
import { describeModelKind } from './model-kind.js';
import type { WeightsSummary } from './snapshot.js';

export interface CreateModelOptions {
  /** Where the code that runs the model lives (seed field). Defaults to none. */
  inferenceCodeLocation?: string;
  /** The hub's task for the model, e.g. `text-generation`. Defaults to the card's, else one read from the architecture. */
  pipelineTag?: string;
  /** The parsed README front matter. Defaults to none. */
  card?: ModelCard;
  /** Tags the hub lists (`key:value` and hub bookkeeping ones are dropped). Defaults to none. */
  hubTags?: string[];
  /** tokenizer_config.json, to see a chat template. Defaults to none. */
  tokenizerConfig?: HfConfig;
  /** Parameter count from the safetensors headers; wins over the config's. Defaults to none. */
  weights?: WeightsSummary;
  /** Files of the model folder or repo. Defaults to none. */
  files?: ModelFile[];
  /** The folder the model was read from. Defaults to none. */
  localPath?: string;
  /** Defaults to https://huggingface.co/<modelId>. */
  sourceUrl?: string;
  /** Options of the memory estimate stored on the model. Defaults to the estimate's own defaults. */
  estimate?: MemoryEstimateOptions;
  /** Receives what could not be derived. Defaults to dropping it. */
  warnings?: string[];
}

function formatOf(files: readonly ModelFile[], weights: WeightsSummary | undefined): ModelFormat | undefined {
  const names = files.map((f) => f.path);
  if (weights || names.some((n) => n.endsWith('.safetensors'))) return 'safetensors';
  if (names.some((n) => n.endsWith('.gguf'))) return 'gguf';
  if (names.some((n) => n.endsWith('.onnx'))) return 'onnx';
  if (names.some((n) => /\.(bin|pt|pth)$/.test(n))) return 'pytorch';
  return undefined;
}

/** Hub bookkeeping tags that say nothing about the model. */
const HUB_INTERNAL_TAGS = new Set(['endpoints_compatible', 'autotrain_compatible', 'text-generation-inference', 'has_space', 'custom_code']);

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v.length > 0))];
}

/**
 * Builds a complete, validated model record from a Hugging Face config, as the seed's
 * `create_model_from_huggingface` does, plus parameter count, attention type and memory estimate.
 * @throws ModelManagerError INVALID_METADATA when the id is not a valid model id
 */
export function createModelFromHuggingFace(modelId: string, hfConfig: HfConfig, options: CreateModelOptions = {}): ModelMetadata {
  const { card, hubTags = [], tokenizerConfig, weights, files = [], warnings = [] } = options;
  const shape = transformerShape(hfConfig);
  const architectures = Array.isArray(hfConfig.architectures) ? hfConfig.architectures.filter((a): a is string => typeof a === 'string') : [];
  const architecture = architectures[0] ?? (shape.family || '');
  if (architectures.length === 0) warnings.push('config.json names no architectures: the kind of model is guessed from model_type');
  const tags = unique([...(card?.tags ?? []), ...hubTags.filter((t) => !t.includes(':') && !HUB_INTERNAL_TAGS.has(t))]);
  const kind = describeModelKind({ architecture, config: hfConfig, shape, pipelineTag: options.pipelineTag ?? card?.pipelineTag, tags, tokenizerConfig });
  if (kind.warning) warnings.push(kind.warning);

  let parameterCount = weights?.parameterCount;
  let parameterMethod = weights ? 'safetensors' : undefined;
  if (parameterCount === undefined) {
    const counted = countParametersFromConfig(hfConfig);
    if (counted) ({ parameters: parameterCount, method: parameterMethod } = counted);
    if (counted?.method === 'config:generic-decoder') warnings.push(`no formula for model_type "${shape.family || '(none)'}": parameter count approximated as a llama-style decoder`);
    if (!counted) warnings.push('config.json lacks the sizes (layers, hidden size, heads, vocabulary) to count parameters');
  }

  const quant = hfConfig.quantization_config as { quant_method?: unknown; bits?: unknown } | undefined;
  const input: ModelMetadataInput = {
    modelId,
    modelName: modelId.split('/').pop() ?? modelId,
    description: card?.summary ?? `${architecture || 'model'} imported from Hugging Face`,
    tags: unique([...tags, ...(kind.pipelineTag ? [kind.pipelineTag] : [])]),
    modelType: kind.modelType,
    architecture,
    modalities: kind.modalities,
    capabilities: kind.capabilities,
    languages: card?.languages ?? [],
    qualityMetrics: card?.metrics ?? [],
    inputs: kind.inputs,
    outputs: kind.outputs,
    huggingfaceConfig: hfConfig,
    files,
    source: 'huggingface',
    sourceUrl: options.sourceUrl ?? `https://huggingface.co/${modelId}`,
    supportedBackends: files.some((f) => f.path.endsWith('.onnx')) ? ['transformers'] : files.some((f) => f.path.endsWith('.gguf')) ? ['llama-cpp'] : [],
  };
  if (modelId.includes('/')) input.author = modelId.split('/')[0];
  if (card?.license) input.license = card.license;
  if (card?.baseModel) input.baseModel = card.baseModel;
  const format = formatOf(files, weights);
  if (format) input.format = format;
  if (quant && typeof quant === 'object' && typeof quant.quant_method === 'string') input.quantization = typeof quant.bits === 'number' ? `${quant.quant_method}-${quant.bits}bit` : quant.quant_method;
  if (parameterCount !== undefined) input.parameterCount = parameterCount;
  const attention = attentionTypeOfShape(shape);
  if (attention) input.attentionType = attention;
  if (shape.contextLength !== undefined) input.contextLength = shape.contextLength;
  if (options.localPath) input.localPath = options.localPath;
  if (options.inferenceCodeLocation) input.inferenceCodeLocation = options.inferenceCodeLocation;

  const model = validateModel(input);
  const estimate = estimateMemory(model, { ...options.estimate, parameterCount, parameterMethod });
  warnings.push(...estimate.warnings);
  model.memoryEstimate = toMemoryEstimate(estimate);
  return model;
}
