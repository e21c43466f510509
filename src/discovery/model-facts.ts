/**
 * What a model is, from the facts its files give: an HF `config.json`, a GGUF header, an ONNX
 * graph, a README's pipeline tag. Each function returns registry fields it could tell.
 */
import { PIPELINE_DATA } from '@huggingface/tasks';
import { attentionTypeOfShape, quantizationOfConfig, transformerShape, type HfConfig, type TransformerShape } from '../estimate/index.js';
import type { GgufHeader, OnnxModelInfo, OnnxTensorSpec } from '../formats/index.js';
import { describeModelKind, type ModelKind } from '../hub/model-kind.js';
import type { AttentionType, IOSpecInput, Modality } from '../registry/index.js';

export interface ModelFacts {
  architecture?: string;
  modelType?: string;
  contextLength?: number;
  attentionType?: AttentionType;
  quantization?: string;
  vocabSize?: number;
  modalities: Set<Modality>;
  capabilities: Set<string>;
  inputs?: IOSpecInput[];
  outputs?: IOSpecInput[];
}

export function emptyFacts(): ModelFacts {
  return { modalities: new Set(), capabilities: new Set() };
}

/** What a config or a README adds beyond the config itself. */
export interface HfConfigContext {
  /** The README's `pipeline_tag`. Defaults to one read from the architecture. */
  pipelineTag?: string;
  /** The README's tags. Defaults to none. */
  tags?: string[];
  /** tokenizer_config.json, to see a chat template. Defaults to none. */
  tokenizerConfig?: HfConfig;
}

function addKind(kind: ModelKind, facts: ModelFacts): void {
  for (const m of kind.modalities) facts.modalities.add(m);
  for (const c of kind.capabilities) facts.capabilities.add(c);
}

/**
 * Facts from an HF `config.json`, read by the same rules as a Hugging Face import
 * (`transformerShape`, `describeModelKind`, `attentionTypeOfShape`), so a model found on disk
 * and the same model imported agree. A kind the import only guessed (unknown architecture)
 * leaves the model type to the weights' headers.
 */
export function factsFromHfConfig(config: HfConfig, facts: ModelFacts, { pipelineTag, tags = [], tokenizerConfig }: HfConfigContext = {}): void {
  // A diffusers component (unet/, vae/, transformer/ of a pipeline) names its class; it works on images.
  if (typeof config._diffusers_version === 'string' && typeof config._class_name === 'string') {
    facts.architecture ??= config._class_name;
    facts.modalities.add('image');
    facts.modelType ??= 'vision_model';
    return;
  }
  const shape = transformerShape(config);
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  const architecture = archs[0] ?? shape.family;
  if (architecture) facts.architecture ??= architecture;
  facts.contextLength ??= shape.contextLength;
  facts.attentionType ??= attentionTypeOfShape(shape);
  facts.vocabSize ??= shape.vocab;
  facts.quantization ??= quantizationOfConfig(config);
  const kind = describeModelKind({ architecture, config, shape, pipelineTag, tags, tokenizerConfig });
  addKind(kind, facts);
  if (kind.warning) return;
  facts.modelType ??= kind.modelType;
  facts.inputs ??= kind.inputs;
  facts.outputs ??= kind.outputs;
}

/** Facts from a README front matter's `pipeline_tag` when there is no config, by the import's rules. */
export function factsFromPipelineTag(tag: string, facts: ModelFacts): void {
  if (!(tag in PIPELINE_DATA)) return;
  addKind(describeModelKind({ architecture: '', config: {}, shape: transformerShape({}), pipelineTag: tag }), facts);
}

/** The transformer shape a GGUF header declares, in the terms the estimate and attention rules use. */
export function shapeOfGguf(h: GgufHeader): TransformerShape {
  const meta = (key: string) => {
    const v = h.architecture === undefined ? undefined : h.metadata[`${h.architecture}.${key}`];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const kvLoraRank = meta('attention.kv_lora_rank');
  const keyLength = meta('attention.key_length');
  const headDim = keyLength ?? (h.embeddingLength !== undefined && h.headCount ? h.embeddingLength / h.headCount : undefined);
  const shape: TransformerShape = {
    family: h.architecture ?? '',
    layers: h.blockCount,
    hidden: h.embeddingLength,
    heads: h.headCount,
    // llama.cpp reads a missing head_count_kv as head_count.
    kvHeads: h.headCountKv ?? h.headCount,
    headDim,
    vocab: h.vocabSize,
    tiedEmbeddings: false,
    contextLength: h.contextLength,
    encoderDecoder: false,
  };
  if (kvLoraRank !== undefined) {
    const rope = meta('rope.dimension_count') ?? 0;
    shape.mla = { kvLoraRank, qkRopeHeadDim: rope, qkNopeHeadDim: (keyLength ?? rope) - rope, vHeadDim: meta('attention.value_length') ?? headDim ?? 0 };
  }
  const window = meta('attention.sliding_window');
  if (window !== undefined && window > 0 && h.blockCount !== undefined) {
    shape.slidingWindow = window;
    shape.slidingLayers = h.architecture === 'gemma2' ? Math.ceil(h.blockCount / 2) : h.blockCount;
  }
  return shape;
}

const GGUF_EMBEDDERS = /^(bert|nomic-bert|jina-bert-v2|t5encoder|modernbert)$/;

/** Facts from a GGUF header. */
export function factsFromGguf(h: GgufHeader, facts: ModelFacts): void {
  facts.architecture ??= h.architecture;
  facts.contextLength ??= h.contextLength;
  facts.attentionType ??= attentionTypeOfShape(shapeOfGguf(h));
  facts.quantization ??= h.quantization;
  facts.vocabSize ??= h.vocabSize;
  const arch = h.architecture ?? '';
  if (arch === 'clip') {
    facts.modalities.add('image');
    facts.modelType ??= 'vision_model';
  } else if (GGUF_EMBEDDERS.test(arch) || h.metadata[`${arch}.pooling_type`] !== undefined) {
    facts.modalities.add('text');
    facts.modelType ??= 'embedding_model';
    facts.capabilities.add('embedding');
  } else {
    facts.modalities.add('text');
    facts.modelType ??= 'decoder_only';
    facts.capabilities.add('text_generation');
  }
  if (h.chatTemplate) facts.capabilities.add('chat');
}

/** A data type for an ONNX input or output, from its name (the HF export conventions). */
function dataTypeOf(spec: OnnxTensorSpec, direction: 'input' | 'output'): IOSpecInput['dataType'] {
  const n = spec.name.toLowerCase();
  if (direction === 'input') {
    if (/input_ids|attention_mask|token_type_ids|position_ids|decoder_input_ids/.test(n)) return 'TOKENS';
    if (/pixel|image/.test(n)) return 'IMAGE';
    if (/input_features|input_values|audio|waveform/.test(n)) return 'AUDIO';
    return spec.dtype.startsWith('int') ? 'TOKENS' : 'FEATURES';
  }
  if (/logits/.test(n)) return 'LOGITS';
  if (/embedding|pooler|pooled|sentence/.test(n)) return 'EMBEDDINGS';
  return 'FEATURES';
}

/** Facts from an ONNX graph: its inputs and outputs as IOSpecs, and the modalities they imply. */
export function factsFromOnnx(info: OnnxModelInfo, facts: ModelFacts): void {
  const spec = (s: OnnxTensorSpec, d: 'input' | 'output'): IOSpecInput => ({ name: s.name, dataType: dataTypeOf(s, d), dtype: s.dtype, ...(s.shape ? { shape: s.shape } : {}) });
  facts.inputs = info.inputs.map((s) => spec(s, 'input'));
  facts.outputs = info.outputs.map((s) => spec(s, 'output'));
  for (const i of facts.inputs) {
    if (i.dataType === 'TOKENS') facts.modalities.add('text');
    if (i.dataType === 'IMAGE') facts.modalities.add('image');
    if (i.dataType === 'AUDIO') facts.modalities.add('audio');
  }
  const tokens = facts.inputs.some((i) => i.dataType === 'TOKENS');
  const logits = facts.outputs.some((o) => o.dataType === 'LOGITS');
  if (logits && tokens) facts.capabilities.add('text_generation');
  else if (logits && facts.modalities.has('image')) facts.capabilities.add('image_classification');
  else if (tokens) facts.capabilities.add('embedding');
}

/** Default I/O of a model whose graph is not at hand, from its type and capabilities. */
export function defaultIo(facts: ModelFacts): { inputs: IOSpecInput[]; outputs: IOSpecInput[] } {
  const inputs: IOSpecInput[] = [];
  // Speech models (whisper) take audio and write text: text is their output, not an input.
  const speech = facts.modalities.has('audio') && (facts.modelType === 'encoder_decoder' || facts.modelType === 'audio_model');
  if (facts.modalities.has('text') && !speech) inputs.push({ name: 'text', dataType: 'TEXT', dtype: 'string' });
  if (facts.modalities.has('image')) inputs.push({ name: 'image', dataType: 'IMAGE', dtype: 'uint8' });
  if (facts.modalities.has('audio')) inputs.push({ name: 'audio', dataType: 'AUDIO', dtype: 'float32' });
  const outputs: IOSpecInput[] = facts.capabilities.has('embedding') || facts.modelType === 'embedding_model'
    ? [{ name: 'embeddings', dataType: 'EMBEDDINGS', dtype: 'float32' }]
    : facts.capabilities.has('text_generation') || facts.modelType === 'decoder_only' || facts.modelType === 'encoder_decoder'
      ? [{ name: 'text', dataType: 'TEXT', dtype: 'string' }]
      : [{ name: 'features', dataType: 'FEATURES', dtype: 'float32' }];
  return { inputs, outputs };
}
