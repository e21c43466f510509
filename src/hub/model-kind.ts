/**
 * What kind of model a config describes: model type, modalities, task (pipeline tag),
 * inputs/outputs and capabilities. The hub's `pipeline_tag` wins; else the architecture's
 * class-name suffix (`...ForCausalLM`, `...ForMaskedLM`) says it, as transformers' auto classes do.
 */
import { PIPELINE_DATA, type PipelineType } from '@huggingface/tasks';
import type { HfConfig, TransformerShape } from '../estimate/index.js';
import type { IOSpecInput, Modality, ModelType } from '../registry/index.js';

export interface ModelKind {
  modelType: ModelType;
  pipelineTag?: string;
  modalities: Modality[];
  inputs: IOSpecInput[];
  outputs: IOSpecInput[];
  capabilities: string[];
  /** Set when nothing known matched and the kind is a guess. */
  warning?: string;
}

const SUFFIX_TASKS: [RegExp, PipelineType][] = [
  [/(ForCausalLM|LMHeadModel)$/, 'text-generation'],
  [/ForMaskedLM$/, 'fill-mask'],
  [/ForSequenceClassification$/, 'text-classification'],
  [/ForTokenClassification$/, 'token-classification'],
  [/ForQuestionAnswering$/, 'question-answering'],
  [/ForImageClassification$/, 'image-classification'],
  [/ForCTC$/, 'automatic-speech-recognition'],
  [/ForSpeechSeq2Seq$|^Whisper/, 'automatic-speech-recognition'],
  [/Model$/, 'feature-extraction'],
];

const TEXT_OUT: Partial<Record<PipelineType, string>> = { 'automatic-speech-recognition': 'text', 'image-to-text': 'text', 'image-text-to-text': 'text' };
const EMBEDDING_TASKS = new Set(['feature-extraction', 'sentence-similarity', 'image-feature-extraction']);
/** Tasks whose only input is an image. */
const IMAGE_ONLY_TASKS = new Set(['image-classification', 'image-feature-extraction']);
/** Vision backbones: their bare `...Model` class embeds images, not text. */
/** Speech encoders: they hear raw audio whatever head they carry. */
const AUDIO_FAMILIES = /^(wav2vec2|wav2vec2-bert|wav2vec2-conformer|hubert|wavlm|data2vec-audio|unispeech|unispeech-sat|sew|sew-d|whisper)$/;
const VISION_FAMILIES = /^(vit|deit|beit|dinov2|dino|swin|swinv2|convnext|convnextv2|resnet|regnet|efficientnet|mobilenet_v2|mobilevit|siglip_vision_model|clip_vision_model)$/;

/** The task a model does, from the hub's tag or the architecture's name. */
export function inferPipelineTag(architecture: string, config: HfConfig, shape: TransformerShape): string | undefined {
  if (/ForConditionalGeneration$/.test(architecture)) {
    // Whisper and kin are seq2seq too, but hear audio: their task is speech recognition.
    if (/^(Whisper|Speech2Text)/.test(architecture)) return 'automatic-speech-recognition';
    if (config.vision_config) return 'image-text-to-text';
    if (shape.encoderDecoder) return 'text2text-generation';
    return 'text-generation';
  }
  // Seq2seq classes with an LM head that are not named ...ForConditionalGeneration: MarianMTModel translates,
  // T5WithLMHeadModel generates text from text (its `LMHeadModel` suffix would read as a decoder).
  if (/MTModel$/.test(architecture)) return 'translation';
  if (shape.encoderDecoder && /LMHeadModel$/.test(architecture)) return 'text2text-generation';
  if (/Model$/.test(architecture) && VISION_FAMILIES.test(shape.family)) return 'image-feature-extraction';
  return SUFFIX_TASKS.find(([pattern]) => pattern.test(architecture))?.[1];
}

function modalitiesOf(task: string | undefined, config: HfConfig, family: string): Modality[] {
  const found = new Set<Modality>();
  const data = task ? (PIPELINE_DATA as Record<string, { modality: string } | undefined>)[task] : undefined;
  if (AUDIO_FAMILIES.test(family)) found.add('audio');
  else if (!data || data.modality === 'nlp') found.add('text');
  if (data?.modality === 'cv' || /image|video/.test(task ?? '') || config.vision_config) found.add('image');
  if (data?.modality === 'audio' || /audio|speech/.test(task ?? '') || config.audio_config) found.add('audio');
  if (/video/.test(task ?? '')) found.add('video');
  if (data?.modality === 'multimodal' || (task && TEXT_OUT[task as PipelineType]) || /^text-to-/.test(task ?? '')) found.add('text');
  return [...found];
}

function ioSpecs(task: string | undefined, shape: TransformerShape, config: HfConfig, modelType: ModelType): { inputs: IOSpecInput[]; outputs: IOSpecInput[] } {
  const seq = ['batch', 'sequence'];
  const vocab = shape.vocab ?? 'vocab';
  const hidden = shape.hidden ?? 'hidden';
  const labels = typeof config.id2label === 'object' && config.id2label ? Object.keys(config.id2label).length : 'labels';
  const inputs: IOSpecInput[] = [];
  if ((task && IMAGE_ONLY_TASKS.has(task)) || task === 'image-text-to-text' || config.vision_config) {
    inputs.push({ name: 'pixel_values', dataType: 'IMAGE', dtype: 'float32', shape: ['batch', 3, 'height', 'width'], description: 'normalised image pixels' });
  }
  if (task === 'automatic-speech-recognition' || task === 'audio-classification' || AUDIO_FAMILIES.test(shape.family)) {
    inputs.push({ name: 'input_features', dataType: 'AUDIO', dtype: 'float32', shape: ['batch', 'features', 'frames'], description: 'audio features (log-mel or raw samples)' });
  } else if (!task || !IMAGE_ONLY_TASKS.has(task)) {
    inputs.push({ name: 'input_ids', dataType: 'TOKENS', dtype: 'int64', shape: seq, description: 'token ids from the tokenizer' });
    inputs.push({ name: 'attention_mask', dataType: 'TOKENS', dtype: 'int64', shape: seq, description: '1 for real tokens, 0 for padding', optional: true });
    if (typeof config.type_vocab_size === 'number' && config.type_vocab_size > 1) {
      inputs.push({ name: 'token_type_ids', dataType: 'TOKENS', dtype: 'int64', shape: seq, description: 'segment ids (sentence A/B)', optional: true });
    }
  }
  if (modelType === 'encoder_decoder') {
    inputs.push({ name: 'decoder_input_ids', dataType: 'TOKENS', dtype: 'int64', shape: seq, description: 'tokens generated so far', optional: true });
  }
  let outputs: IOSpecInput[];
  if (task && EMBEDDING_TASKS.has(task)) {
    outputs = [
      { name: 'embeddings', dataType: 'EMBEDDINGS', dtype: 'float32', shape: ['batch', hidden], description: 'one pooled vector per input' },
      { name: 'last_hidden_state', dataType: 'FEATURES', dtype: 'float32', shape: ['batch', 'sequence', hidden], description: 'per-token hidden states', optional: true },
    ];
  } else if (task === 'text-classification' || task === 'image-classification' || task === 'audio-classification') {
    outputs = [{ name: 'logits', dataType: 'LOGITS', dtype: 'float32', shape: ['batch', labels], description: 'one score per label' }];
  } else if (task === 'token-classification') {
    outputs = [{ name: 'logits', dataType: 'LOGITS', dtype: 'float32', shape: ['batch', 'sequence', labels], description: 'one score per label and token' }];
  } else if (task === 'question-answering') {
    outputs = [
      { name: 'start_logits', dataType: 'LOGITS', dtype: 'float32', shape: seq, description: 'answer start scores' },
      { name: 'end_logits', dataType: 'LOGITS', dtype: 'float32', shape: seq, description: 'answer end scores' },
    ];
  } else if (task && TEXT_OUT[task as PipelineType] && task !== 'image-text-to-text') {
    outputs = [{ name: 'sequences', dataType: 'TOKENS', dtype: 'int64', shape: seq, description: 'generated token ids (decode to text)' }];
  } else {
    outputs = [{ name: 'logits', dataType: 'LOGITS', dtype: 'float32', shape: ['batch', 'sequence', vocab], description: 'next-token scores over the vocabulary' }];
  }
  return { inputs, outputs };
}

/** Describes a model from its architecture, config, pipeline tag, tags and tokenizer config. */
export function describeModelKind({ architecture, config, shape, pipelineTag, tags = [], tokenizerConfig }: {
  architecture: string;
  config: HfConfig;
  shape: TransformerShape;
  pipelineTag?: string;
  tags?: string[];
  tokenizerConfig?: HfConfig;
}): ModelKind {
  const task = pipelineTag ?? inferPipelineTag(architecture, config, shape);
  const modalities = modalitiesOf(task, config, shape.family);
  let modelType: ModelType;
  let warning: string | undefined;
  if ((task && EMBEDDING_TASKS.has(task)) || tags.includes('sentence-transformers')) modelType = 'embedding_model';
  else if (modalities.length > 1 && (config.vision_config || config.audio_config || task === 'image-text-to-text')) modelType = 'multimodal';
  else if (modalities.includes('audio')) modelType = 'audio_model';
  else if (modalities.includes('image') && !modalities.includes('text')) modelType = 'vision_model';
  else if (shape.encoderDecoder) modelType = 'encoder_decoder';
  else if (/(ForCausalLM|LMHeadModel)$/.test(architecture) || task === 'text-generation') modelType = 'decoder_only';
  else if (/For(MaskedLM|SequenceClassification|TokenClassification|QuestionAnswering)$/.test(architecture) || task === 'fill-mask') modelType = 'encoder_only';
  else {
    modelType = 'language_model';
    warning = `unknown architecture "${architecture || '(none)'}" without a pipeline tag: imported as a generic language_model`;
  }
  const capabilities = new Set<string>();
  if (modelType === 'decoder_only' || task === 'text-generation' || task === 'text2text-generation' || task === 'translation' || task === 'summarization' || task === 'image-text-to-text') {
    capabilities.add('text_generation');
  }
  if (modelType === 'embedding_model') capabilities.add('embedding');
  if (tokenizerConfig?.chat_template || tags.includes('conversational')) capabilities.add('chat');
  if (tags.includes('code')) capabilities.add('code');
  if (task === 'fill-mask') capabilities.add('fill_mask');
  if (task === 'automatic-speech-recognition') capabilities.add('speech_recognition');
  if (task === 'translation' || task === 'summarization' || task === 'text-classification' || task === 'question-answering') capabilities.add(task.replace(/-/g, '_'));
  const kind: ModelKind = { modelType, modalities, ...ioSpecs(task, shape, config, modelType), capabilities: [...capabilities] };
  if (task) kind.pipelineTag = task;
  if (warning) kind.warning = warning;
  return kind;
}
