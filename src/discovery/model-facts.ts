/**
 * What a model is, from the facts its files give: an HF `config.json`, a GGUF header, an ONNX
 * graph, a README's pipeline tag. Each function returns registry fields it could tell.
 */
import { PIPELINE_DATA } from '@huggingface/tasks';
import type { AttentionType, IOSpecInput, Modality } from '../registry/index.js';
import type { GgufHeader, OnnxModelInfo, OnnxTensorSpec } from '../formats/index.js';

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

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The attention rule of the design: MLA when LoRA ranks are set; else by KV heads against heads. */
export function attentionOf(heads: number | undefined, kvHeads: number | undefined, mla = false): AttentionType | undefined {
  if (mla) return 'mla';
  if (heads === undefined) return undefined;
  const kv = kvHeads ?? heads;
  if (kv === 1 && heads > 1) return 'mqa';
  return kv < heads ? 'gqa' : 'mha';
}

const AUDIO_TYPES = /whisper|wav2vec|hubert|wavlm|speech|audio|encodec|musicgen|bark|seamless|clap/i;
const VISION_TYPES = /vit|clip|siglip|resnet|convnext|swin|dino|detr|yolo|segformer|beit|deit|sam|mobilenet|efficientnet/i;

/** Facts from an HF `config.json` (and, for multimodal ones, its nested text/vision configs). */
export function factsFromHfConfig(config: Record<string, unknown>, facts: ModelFacts): void {
  const text = (config.text_config && typeof config.text_config === 'object' ? config.text_config : config) as Record<string, unknown>;
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  const modelType = typeof config.model_type === 'string' ? config.model_type : undefined;
  facts.architecture ??= archs[0] ?? modelType;
  facts.contextLength ??= num(text.max_position_embeddings) ?? num(text.n_positions) ?? num(text.max_seq_len) ?? num(text.seq_length) ?? num(text.n_ctx);
  const heads = num(text.num_attention_heads) ?? num(text.n_head);
  const kv = num(text.num_key_value_heads) ?? (text.multi_query === true ? 1 : undefined);
  facts.attentionType ??= attentionOf(heads, kv, text.kv_lora_rank !== undefined || text.q_lora_rank !== undefined);
  facts.vocabSize ??= num(text.vocab_size);
  const q = config.quantization_config as Record<string, unknown> | undefined;
  if (q && typeof q === 'object') {
    const method = typeof q.quant_method === 'string' ? q.quant_method : 'quantized';
    const bits = num(q.bits) ?? (q.load_in_4bit === true ? 4 : q.load_in_8bit === true ? 8 : undefined);
    facts.quantization ??= bits ? `${method}-${bits}bit` : method;
  }
  const kind = `${modelType ?? ''} ${archs.join(' ')}`;
  const audio = AUDIO_TYPES.test(kind) || config.audio_config !== undefined;
  const vision = config.vision_config !== undefined || (VISION_TYPES.test(kind) && !audio);
  const hasText = !(vision || audio) || config.text_config !== undefined || archs.some((a) => /CausalLM|ConditionalGeneration|Seq2Seq/.test(a)) || num(config.vocab_size) !== undefined;
  if (hasText) facts.modalities.add('text');
  if (vision) facts.modalities.add('image');
  if (audio) facts.modalities.add('audio');
  const causal = archs.some((a) => /ForCausalLM$/.test(a));
  if (config.is_encoder_decoder === true || archs.some((a) => /ForConditionalGeneration$|Seq2Seq/.test(a)) && !vision) facts.modelType ??= 'encoder_decoder';
  if (causal || archs.some((a) => /ForCausalLM|LMHeadModel/.test(a))) {
    facts.modelType ??= 'decoder_only';
    facts.capabilities.add('text-generation');
  }
  if (audio && hasText && facts.modelType === 'encoder_decoder') facts.capabilities.add('speech-recognition');
  if (vision && hasText) facts.modelType ??= 'multimodal';
  else if (vision) facts.modelType ??= 'vision_model';
  else if (audio) facts.modelType ??= 'audio_model';
  if (archs.some((a) => /ForMaskedLM$|^(Bert|Roberta|XLMRoberta|DistilBert|Electra|DebertaV2|MPNet|NomicBert)Model$/.test(a))) facts.modelType ??= 'encoder_only';
}

/** Facts from a README front matter's `pipeline_tag`, via @huggingface/tasks' pipeline table. */
export function factsFromPipelineTag(tag: string, facts: ModelFacts): void {
  const data = (PIPELINE_DATA as Record<string, { modality?: string } | undefined>)[tag];
  if (!data) return;
  const modality = data.modality;
  if (modality === 'nlp') facts.modalities.add('text');
  if (modality === 'cv') facts.modalities.add('image');
  if (modality === 'audio') facts.modalities.add('audio');
  if (modality === 'multimodal') {
    facts.modalities.add('text');
    facts.modalities.add(/audio|speech/.test(tag) ? 'audio' : 'image');
  }
  if (tag === 'feature-extraction' || tag === 'sentence-similarity') facts.capabilities.add('embedding');
  if (tag === 'text-generation' || tag === 'text2text-generation') facts.capabilities.add('text-generation');
}

const GGUF_EMBEDDERS = /^(bert|nomic-bert|jina-bert-v2|t5encoder|modernbert)$/;

/** Facts from a GGUF header. */
export function factsFromGguf(h: GgufHeader, facts: ModelFacts): void {
  facts.architecture ??= h.architecture;
  facts.contextLength ??= h.contextLength;
  facts.attentionType ??= attentionOf(h.headCount, h.headCountKv, h.architecture !== undefined && h.metadata[`${h.architecture}.attention.kv_lora_rank`] !== undefined);
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
    facts.capabilities.add('text-generation');
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
  if (logits && tokens) facts.capabilities.add('text-generation');
  else if (logits && facts.modalities.has('image')) facts.capabilities.add('image-classification');
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
    : facts.capabilities.has('text-generation') || facts.modelType === 'decoder_only' || facts.modelType === 'encoder_decoder'
      ? [{ name: 'text', dataType: 'TEXT', dtype: 'string' }]
      : [{ name: 'features', dataType: 'FEATURES', dtype: 'float32' }];
  return { inputs, outputs };
}
