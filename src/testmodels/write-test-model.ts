/**
 * `writeTestModel`: writes a real-format model with random weights into a folder that every
 * command accepts as a model name (model file, config.json, tokenizer files, a README with
 * front matter for discovery).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ModelManagerError } from '../errors.js';
import { bertModel, llamaModel, type TransformerShape } from './gguf-models.js';
import { writeGgufFile, type GgmlType } from './gguf-writer.js';
import { byteBpeTokenizerConfig, byteBpeTokenizerJson, BYTE_BPE_VOCAB_SIZE } from './byte-bpe-tokenizer.js';
// The ONNX writers load protobufjs (~0.1 s): imported when an ONNX model is written, not with the package.
import type { BertShape } from './onnx-bert.js';
import type { Gpt2Shape } from './onnx-gpt2.js';
import type { T5Shape } from './onnx-t5.js';
import { EOS_ID, PAD_ID, UNK_ID, unigramTokenizerConfig, unigramTokenizerJson, unigramVocabulary } from './unigram-tokenizer.js';
import { wordPieceTokenizerConfig, wordPieceTokenizerJson, wordPieceVocabulary } from './wordpiece-tokenizer.js';

export const TEST_MODEL_FORMATS = ['gguf', 'onnx'] as const;
/** `text2text`: an encoder-decoder (T5) that generates text from text; ONNX only. */
export const TEST_MODEL_TASKS = ['embedding', 'text_generation', 'text2text'] as const;
export const TEST_MODEL_SIZES = ['tiny', 'small', 'bench'] as const;
export type TestModelFormat = (typeof TEST_MODEL_FORMATS)[number];
export type TestModelTask = (typeof TEST_MODEL_TASKS)[number];
export type TestModelSize = (typeof TEST_MODEL_SIZES)[number];

export interface WriteTestModelOptions {
  format: TestModelFormat;
  task: TestModelTask;
  /** Folder to write into; created when missing. Files of the same names are overwritten. */
  out: string;
  /** `tiny` loads in milliseconds (tests), `small` is a few MB, `bench` has realistic shapes. Defaults to `tiny`. */
  size?: TestModelSize;
  /** Seed of the random weights: the same seed writes byte-identical files. Defaults to 1. */
  seed?: number;
}

export interface TestModelInfo {
  /** Absolute path of the folder written. */
  path: string;
  /** Files written, relative to `path`. */
  files: string[];
  format: TestModelFormat;
  task: TestModelTask;
  size: TestModelSize;
  parameterCount: number;
}

/** Llama decoders; `bench` is ~100M parameters in F16 (about 200 MB on disk). */
const LLAMA_SIZES: Record<TestModelSize, TransformerShape & { type: GgmlType }> = {
  tiny: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, feedForward: 128, context: 256, type: 'F32' },
  small: { hidden: 256, layers: 4, heads: 8, kvHeads: 4, feedForward: 688, context: 1024, type: 'F32' },
  bench: { hidden: 768, layers: 16, heads: 12, kvHeads: 4, feedForward: 2048, context: 2048, type: 'F16' },
};

/** GGUF bert encoders; `bench` has the shape of all-MiniLM-L6-v2. */
const GGUF_BERT_SIZES: Record<TestModelSize, TransformerShape & { type: GgmlType }> = {
  tiny: { hidden: 64, layers: 2, heads: 4, kvHeads: 4, feedForward: 128, context: 128, type: 'F32' },
  small: { hidden: 256, layers: 4, heads: 4, kvHeads: 4, feedForward: 1024, context: 512, type: 'F32' },
  bench: { hidden: 384, layers: 6, heads: 12, kvHeads: 12, feedForward: 1536, context: 512, type: 'F16' },
};

/** ONNX bert encoders; `small` is bert-tiny shaped, `bench` all-MiniLM-L6-v2 shaped (30522 tokens). */
const ONNX_BERT_SIZES: Record<TestModelSize, BertShape> = {
  tiny: { vocab: 256, hidden: 32, layers: 2, heads: 2, feedForward: 64, maxPositions: 128 },
  small: { vocab: 4096, hidden: 128, layers: 2, heads: 2, feedForward: 512, maxPositions: 512 },
  bench: { vocab: 30522, hidden: 384, layers: 6, heads: 12, feedForward: 1536, maxPositions: 512 },
};

/** ONNX GPT-2 style decoders with a KV cache; `bench` has GPT-2 small's shape (~86M parameters). */
const ONNX_GPT2_SIZES: Record<TestModelSize, Gpt2Shape> = {
  tiny: { hidden: 64, layers: 2, heads: 4, maxPositions: 256 },
  small: { hidden: 256, layers: 4, heads: 4, maxPositions: 1024 },
  bench: { hidden: 768, layers: 12, heads: 12, maxPositions: 1024 },
};

/** ONNX T5 encoder-decoders; `small` is t5-efficient-tiny shaped, `bench` flan-t5-small shaped (~77M parameters). */
const ONNX_T5_SIZES: Record<TestModelSize, T5Shape & { maxPositions: number }> = {
  tiny: { vocab: 512, hidden: 32, headDim: 8, heads: 4, feedForward: 64, layers: 2, buckets: 32, maxDistance: 128, maxPositions: 512 },
  small: { vocab: 4096, hidden: 256, headDim: 32, heads: 4, feedForward: 1024, layers: 4, buckets: 32, maxDistance: 128, maxPositions: 512 },
  bench: { vocab: 32128, hidden: 512, headDim: 64, heads: 6, feedForward: 1024, layers: 8, buckets: 32, maxDistance: 128, maxPositions: 512 },
};

const PIPELINE_TAGS: Record<TestModelTask, string> = { embedding: 'feature-extraction', text_generation: 'text-generation', text2text: 'text2text-generation' };

function readme({ name, task, format, parameterCount }: { name: string; task: TestModelTask; format: TestModelFormat; parameterCount: number }): string {
  return [
    '---', `pipeline_tag: ${PIPELINE_TAGS[task]}`, `library_name: ${format === 'gguf' ? 'llama.cpp' : 'transformers.js'}`,
    'license: mit', `tags: [testmodel, random-weights, ${format}]`, '---', '',
    `# ${name}`, '',
    `${format === 'onnx' ? 'An' : 'A'} ${format.toUpperCase()} ${task.replace('_', ' ')} model with ${parameterCount} random parameters, written by`,
    // Worded without "code": discovery's rules would read the word as a coding model.
    '`mm testmodel`. Its outputs are meaningless; it exists to test loading and running models.', '',
  ].join('\n');
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

type GgufTask = Exclude<TestModelTask, 'text2text'>;

/** The generated GGUF models are decoders and encoders: an encoder-decoder is written as ONNX only. */
function ggufTask(task: TestModelTask): GgufTask {
  if (task === 'text2text') throw new ModelManagerError('INVALID_ARGUMENT', 'text2text test models (T5 encoder-decoders) are written as ONNX only: use format onnx.');
  return task;
}

/** The GGUF file a model of this kind is written to, relative to its folder. */
function ggufFile(task: GgufTask, size: TestModelSize): string {
  const { type } = task === 'embedding' ? GGUF_BERT_SIZES[size] : LLAMA_SIZES[size];
  return `testmodel-${task === 'embedding' ? 'bert' : 'llama'}-${size}.${type.toLowerCase()}.gguf`;
}

/** The weights files a model of this kind is written to, relative to its folder. */
function weightsFiles(format: TestModelFormat, task: TestModelTask, size: TestModelSize): string[] {
  if (format === 'gguf') return [ggufFile(ggufTask(task), size)];
  return task === 'text2text' ? ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'] : ['onnx/model.onnx'];
}

/**
 * Refuses a folder that already holds other weights: two models in one folder would make its
 * name ambiguous. Writing the same kind of model again overwrites it.
 */
async function assertNoOtherWeights(path: string, keep: readonly string[]): Promise<void> {
  const listed = async (dir: string, prefix: string) => (await readdir(join(path, dir)).catch(() => [] as string[])).map((f) => `${prefix}${f}`);
  const others = [...(await listed('.', '')), ...(await listed('onnx', 'onnx/'))]
    .filter((f) => /\.(gguf|onnx|safetensors|bin|pt)$/i.test(f) && !keep.includes(f));
  if (others.length > 0) {
    throw new ModelManagerError('INVALID_ARGUMENT', `${path} already holds another model (${others.join(', ')}): write the test model into an empty folder`, {
      details: { path, files: others },
    });
  }
}

/** The folder being written, and the files written into it so far. */
class OutputFolder {
  readonly files: string[] = [];
  constructor(readonly path: string) {}

  async write(file: string, content: string | Uint8Array): Promise<void> {
    await this.stream(file, (target) => writeFile(target, content));
  }

  /** Lets `writer` write `file` itself (large files written piece by piece). */
  async stream(file: string, writer: (target: string) => Promise<unknown>): Promise<void> {
    const target = join(this.path, file);
    await mkdir(dirname(target), { recursive: true });
    await writer(target);
    this.files.push(file);
  }
}

interface Written { name: string; parameterCount: number }

async function writeGgufModel(out: OutputFolder, task: GgufTask, size: TestModelSize, seed: number): Promise<Written> {
  const { type, ...shape } = task === 'embedding' ? GGUF_BERT_SIZES[size] : LLAMA_SIZES[size];
  const name = `testmodel-${task === 'embedding' ? 'bert' : 'llama'}-${size}`;
  const model = task === 'embedding' ? bertModel(shape, { seed, type, name }) : llamaModel(shape, { seed, type, name });
  await out.stream(ggufFile(task, size), (target) => writeGgufFile(target, model.spec));
  await out.write('config.json', json(model.config));
  return { name, parameterCount: model.parameterCount };
}

async function writeOnnxBert(out: OutputFolder, size: TestModelSize, seed: number): Promise<Written> {
  const shape = ONNX_BERT_SIZES[size];
  const name = `testmodel-onnx-bert-${size}`;
  const vocab = wordPieceVocabulary(shape.vocab);
  const { bertOnnxModel } = await import('./onnx-bert.js');
  const model = bertOnnxModel({ ...shape, vocab: vocab.length }, { seed, name });
  await out.write('onnx/model.onnx', model.bytes);
  await out.write('tokenizer.json', json(wordPieceTokenizerJson(vocab)));
  await out.write('tokenizer_config.json', json(wordPieceTokenizerConfig(shape.maxPositions)));
  await out.write('config.json', json({
    architectures: ['BertModel'], model_type: 'bert', hidden_size: shape.hidden, num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads, intermediate_size: shape.feedForward, vocab_size: vocab.length,
    max_position_embeddings: shape.maxPositions, type_vocab_size: 2, hidden_act: 'gelu', layer_norm_eps: 1e-12,
    pad_token_id: 0, torch_dtype: 'float32',
  }));
  return { name, parameterCount: model.parameterCount };
}

async function writeOnnxGpt2(out: OutputFolder, size: TestModelSize, seed: number): Promise<Written> {
  const shape = ONNX_GPT2_SIZES[size];
  const name = `testmodel-onnx-gpt2-${size}`;
  const { gpt2OnnxModel } = await import('./onnx-gpt2.js');
  const model = gpt2OnnxModel(shape, { seed, name });
  await out.write('onnx/model.onnx', model.bytes);
  await out.write('tokenizer.json', json(byteBpeTokenizerJson()));
  await out.write('tokenizer_config.json', json(byteBpeTokenizerConfig(shape.maxPositions)));
  const endOfText = BYTE_BPE_VOCAB_SIZE - 1;
  await out.write('config.json', json({
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', n_embd: shape.hidden, n_layer: shape.layers, n_head: shape.heads,
    n_positions: shape.maxPositions, n_ctx: shape.maxPositions, vocab_size: BYTE_BPE_VOCAB_SIZE, activation_function: 'gelu',
    layer_norm_epsilon: 1e-5, bos_token_id: endOfText, eos_token_id: endOfText, use_cache: true, torch_dtype: 'float32',
  }));
  return { name, parameterCount: model.parameterCount };
}

async function writeOnnxT5(out: OutputFolder, size: TestModelSize, seed: number): Promise<Written> {
  const { maxPositions, ...shape } = ONNX_T5_SIZES[size];
  const name = `testmodel-onnx-t5-${size}`;
  const { t5OnnxModels, T5_LAYER_NORM_EPS } = await import('./onnx-t5.js');
  const model = t5OnnxModels(shape, { seed, name, neverGenerated: [PAD_ID, EOS_ID, UNK_ID] });
  await out.write('onnx/encoder_model.onnx', model.encoder);
  await out.write('onnx/decoder_model_merged.onnx', model.decoder);
  await out.write('tokenizer.json', json(unigramTokenizerJson(unigramVocabulary(shape.vocab))));
  await out.write('tokenizer_config.json', json(unigramTokenizerConfig(maxPositions)));
  const tokens = { decoder_start_token_id: PAD_ID, pad_token_id: PAD_ID, eos_token_id: EOS_ID };
  await out.write('config.json', json({
    architectures: ['T5ForConditionalGeneration'], model_type: 't5', is_encoder_decoder: true, vocab_size: shape.vocab,
    d_model: shape.hidden, d_kv: shape.headDim, d_ff: shape.feedForward, num_heads: shape.heads,
    num_layers: shape.layers, num_decoder_layers: shape.layers,
    relative_attention_num_buckets: shape.buckets, relative_attention_max_distance: shape.maxDistance,
    feed_forward_proj: 'gated-gelu', dense_act_fn: 'gelu_new', is_gated_act: true, layer_norm_epsilon: T5_LAYER_NORM_EPS,
    tie_word_embeddings: false, n_positions: maxPositions, use_cache: true, ...tokens, torch_dtype: 'float32',
  }));
  await out.write('generation_config.json', json(tokens));
  return { name, parameterCount: model.parameterCount };
}

async function writeModel(folder: OutputFolder, format: TestModelFormat, task: TestModelTask, size: TestModelSize, seed: number): Promise<Written> {
  if (format === 'gguf') return writeGgufModel(folder, ggufTask(task), size, seed);
  if (task === 'embedding') return writeOnnxBert(folder, size, seed);
  return task === 'text2text' ? writeOnnxT5(folder, size, seed) : writeOnnxGpt2(folder, size, seed);
}

/** Writes a generated model into `out` and describes what was written. */
export async function writeTestModel({ format, task, out, size = 'tiny', seed = 1 }: WriteTestModelOptions): Promise<TestModelInfo> {
  if (!TEST_MODEL_FORMATS.includes(format)) throw new ModelManagerError('INVALID_ARGUMENT', `Unknown test model format "${format}": use ${TEST_MODEL_FORMATS.join(' or ')}.`);
  if (!TEST_MODEL_TASKS.includes(task)) throw new ModelManagerError('INVALID_ARGUMENT', `Unknown test model task "${task}": use ${TEST_MODEL_TASKS.join(' or ')}.`);
  if (!TEST_MODEL_SIZES.includes(size)) throw new ModelManagerError('INVALID_ARGUMENT', `Unknown test model size "${size}": use ${TEST_MODEL_SIZES.join(', ')}.`);
  if (!Number.isInteger(seed) || seed < 0) throw new ModelManagerError('INVALID_ARGUMENT', `The seed must be a whole number of 0 or more, got ${seed}.`);
  const path = resolve(out);
  await assertNoOtherWeights(path, weightsFiles(format, task, size));
  const folder = new OutputFolder(path);
  const { name, parameterCount } = await writeModel(folder, format, task, size, seed);
  await folder.write('README.md', readme({ name, task, format, parameterCount }));
  return { path, files: folder.files, format, task, size, parameterCount };
}
