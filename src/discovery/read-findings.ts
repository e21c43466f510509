/**
 * Reads one found model's headers and side files (never the weights) into findings: the registry
 * fields its files tell, and what the categoriser looks at. Runs in the header reader threads
 * during a large scan (see describe-pool.ts); describe.ts then categorises and sizes the findings
 * on the main thread. A weights header that cannot be read makes the model fail with that reason;
 * a bad side file (README, metadata.json) is only a warning.
 */
import { readSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { ModelManagerError } from '../errors.js';
import { SAFETENSORS_SHARD, closeAfterReading, oneOnnxVariant, oneSafetensorsVariant, openForReading, parseGgmlMagic, readGgufModelSync, readOnnxModelSync, readSafetensorsCounts, readSafetensorsIndexCounts, watchReads } from '../formats/index.js';
import type { EstimatedModel } from '../estimate/index.js';
import type { ModelFormat } from '../registry/index.js';
import type { Description } from './describe.js';
import { defaultIo, emptyFacts, factsFromGguf, factsFromHfConfig, factsFromOnnx, factsFromPipelineTag, shapeOfGguf, type ModelFacts } from './model-facts.js';
import type { CategoryEvidence } from './rules.js';
import { readJsonFile, readReadme, type ReadMeter } from './side-files.js';
import type { ModelUnit } from './types.js';

/** What reading a model's files found: its fields before they are categorised and sized, and what the categoriser looks at. */
export interface Findings extends Omit<Description, 'fields'> {
  fields: Omit<Description['fields'], 'category' | 'memoryEstimate'> & Omit<EstimatedModel, 'memoryEstimate'>;
  evidence: CategoryEvidence;
}

const names = (unit: ModelUnit, re: RegExp) => unit.files.filter((f) => re.test(basename(f.path))).map((f) => f.path);
const fileNamed = (unit: ModelUnit, name: string) => unit.files.find((f) => basename(f.path) === name)?.path;

/** The format of a `.bin/.pt/.ggml` file by its magic: legacy GGML, PyTorch zip or pickle; anything else is refused. */
function sniffWeightsFile(path: string, meter: ReadMeter, allowed: readonly ('ggml' | 'pytorch')[]): 'ggml' | 'pytorch' {
  const buf = Buffer.alloc(8);
  const fd = openForReading(path);
  let bytesRead: number;
  try {
    bytesRead = readSync(fd, buf, 0, 8, 0);
  } finally {
    closeAfterReading(fd, path);
  }
  meter.bytes += bytesRead;
  const head = buf.subarray(0, bytesRead);
  const format = parseGgmlMagic(head)
    ? 'ggml'
    : (head[0] === 0x50 && head[1] === 0x4b) || (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5)
      ? 'pytorch' // zip (torch.save since 1.6), or pickle protocol 2-5
      : undefined;
  if (format && allowed.includes(format)) return format;
  throw new ModelManagerError('INVALID_FILE', `${path}: not a ${allowed.map((f) => (f === 'ggml' ? 'GGML' : 'PyTorch (zip or pickle)')).join(' or ')} file`, { details: { path, reason: 'unknown magic' } });
}

/**
 * The first shard of a `-0000N-of-0000M.safetensors` set that is not among `paths`, and how many
 * are missing of how many; undefined when every set is whole.
 */
function missingShard(paths: string[]): { first: string; missing: number; total: number } | undefined {
  const sets = new Map<string, Set<number>>();
  for (const p of paths) {
    const m = SAFETENSORS_SHARD.exec(p);
    if (!m) continue;
    const key = `${m[1]}\0${m[3]}`;
    sets.set(key, (sets.get(key) ?? new Set()).add(Number(m[2])));
  }
  for (const [key, have] of sets) {
    const [prefix, of] = key.split('\0') as [string, string];
    const total = Number(of);
    if (have.size >= total) continue;
    let k = 1;
    while (have.has(k)) k++;
    return { first: `${prefix}-${String(k).padStart(5, '0')}-of-${of}.safetensors`, missing: total - have.size, total };
  }
  return undefined;
}

interface WeightsFacts {
  format?: ModelFormat;
  parameterCount?: number;
  estimate?: Description['estimate'];
}

/** Reads the weights' headers; returns the format and parameter count and adds what they tell to `facts`. */
function readWeights(unit: ModelUnit, facts: ModelFacts, meter: ReadMeter): WeightsFacts {
  const index = fileNamed(unit, 'model.safetensors.index.json');
  const safetensors = oneSafetensorsVariant(names(unit, /\.safetensors$/i));
  if (index || safetensors.length > 0) {
    // Shards named -0000N-of-0000M tell their own completeness; the index (often larger than a
    // shard's header) is read only when the names do not. `mm validate` still reads it.
    const gap = missingShard(safetensors);
    if (index && (gap || safetensors.length === 0 || !safetensors.every((p) => SAFETENSORS_SHARD.test(p)))) {
      const summary = readSafetensorsIndexCounts(index);
      meter.bytes += summary.bytesRead;
      return { format: 'safetensors', parameterCount: summary.parameterCount };
    }
    if (gap) {
      throw new ModelManagerError('FILE_NOT_FOUND', `${safetensors[0]}: ${gap.missing} of ${gap.total} safetensors shards are missing (first: ${gap.first})`, {
        details: { path: safetensors[0], firstMissing: gap.first, reason: 'incomplete shard set' },
      });
    }
    let count = 0;
    for (const path of safetensors) {
      const h = readSafetensorsCounts(path);
      meter.bytes += h.bytesRead;
      count += h.parameterCount;
    }
    return { format: 'safetensors', parameterCount: count };
  }
  const gguf = unit.kind === 'ollama'
    ? unit.ollama!.layers.filter((l) => l.mediaType === 'application/vnd.ollama.image.model').map((l) => l.path)
    : names(unit, /\.gguf$/i).filter((p) => !/mmproj/i.test(basename(p)));
  if (gguf.length > 0) {
    const model = readGgufModelSync(gguf[0]!);
    meter.bytes += model.bytesRead;
    factsFromGguf(model.header, facts);
    const projectors = unit.kind === 'ollama' ? [] : names(unit, /mmproj.*\.gguf$/i);
    if (projectors.length > 0) facts.modalities.add('image');
    // GGUF weights load as stored: the files (shards and projector included) are what they weigh.
    const loaded = new Set([...gguf, ...projectors]);
    const weightsBytes = unit.files.filter((f) => loaded.has(f.path)).reduce((a, f) => a + f.size, 0);
    return { format: 'gguf', parameterCount: model.parameterCount, estimate: { shape: shapeOfGguf(model.header), weightsBytes } };
  }
  const onnxFiles = oneOnnxVariant(names(unit, /\.onnx$/i)).sort((a, b) => Number(basename(b) === 'model.onnx') - Number(basename(a) === 'model.onnx'));
  if (onnxFiles.length > 0) {
    let count = 0;
    for (const [i, path] of onnxFiles.entries()) {
      const info = readOnnxModelSync(path);
      meter.bytes += info.bytesRead;
      if (i === 0) factsFromOnnx(info, facts);
      count += info.parameterCount;
    }
    return { format: 'onnx', parameterCount: count > 0 ? count : undefined };
  }
  if (unit.kind === 'ggml') return { format: sniffWeightsFile(unit.files[0]!.path, meter, ['ggml']) };
  const pytorch = names(unit, /\.(bin|pt|pth|ckpt)$/i);
  if (pytorch.length > 0) return { format: sniffWeightsFile(pytorch[0]!, meter, ['ggml', 'pytorch']) };
  return {};
}

/**
 * Reads a model's files (synchronous bounded reads) into findings, and names a file that changed
 * while it was read.
 * @throws ModelManagerError when a weights header is unreadable
 */
export async function readFindings(unit: ModelUnit, warn: (path: string, reason: string) => void): Promise<Findings> {
  const { result: { description, metadataDoc }, stats } = watchReads(() => readUnit(unit, warn));
  // Files the reads did not touch cannot have changed this description (a later scan sees their new stats).
  const moved = unit.files.find((f) => {
    const now = stats.get(f.path);
    return now !== undefined && (now.size !== f.size || now.mtimeMs !== f.mtimeMs);
  });
  if (moved) description.moved = moved.path;
  // metadata.json's mapping (and its schema library) is loaded only for a model that has one.
  if (metadataDoc) description.overrides = (await import('./metadata-file.js')).metadataOverrides(metadataDoc);
  return description;
}

/** What `readFindings` reads, synchronously (every read is a bounded pread: see BoundedReader), and metadata.json as found. */
function readUnit(unit: ModelUnit, warn: (path: string, reason: string) => void): { description: Findings; metadataDoc?: Record<string, unknown> } {
  const meter: ReadMeter = { bytes: 0, warn };
  const facts = emptyFacts();
  const configPath = fileNamed(unit, 'config.json');
  const config = configPath ? readJsonFile(configPath, meter) : undefined;
  const tokenizerConfigPath = fileNamed(unit, 'tokenizer_config.json');
  const tokenizerConfig = tokenizerConfigPath ? readJsonFile(tokenizerConfigPath, meter, 16 * 2 ** 20) : undefined;
  const readmePath = unit.files.find((f) => f.role === 'readme')?.path;
  const readme = readmePath ? readReadme(readmePath, meter) : undefined;
  const fm = readme?.frontMatter ?? {};
  const pipelineTag = typeof fm.pipeline_tag === 'string' ? fm.pipeline_tag : undefined;
  // A PEFT adapter (LoRA, ...) names its base model and method in adapter_config.json.
  const adapterPath = fileNamed(unit, 'adapter_config.json');
  const adapter = adapterPath ? readJsonFile(adapterPath, meter) : undefined;
  const adapterTags = adapter ? ['adapter', ...(typeof adapter.peft_type === 'string' ? [adapter.peft_type.toLowerCase()] : [])] : [];
  const tags = [...new Set([...(Array.isArray(fm.tags) ? fm.tags.filter((t): t is string => typeof t === 'string' && t.length > 0) : []), ...adapterTags, ...(unit.kind === 'ollama' ? ['ollama'] : [])])];

  if (config) factsFromHfConfig(config, facts, { pipelineTag, tags, tokenizerConfig });
  else if (pipelineTag) factsFromPipelineTag(pipelineTag, facts);
  const weights = readWeights(unit, facts, meter);

  if (tokenizerConfig?.chat_template) facts.capabilities.add('chat');
  if (unit.ollama?.layers.some((l) => l.mediaType === 'application/vnd.ollama.image.template')) facts.capabilities.add('chat');
  if (unit.ollama?.layers.some((l) => l.mediaType === 'application/vnd.ollama.image.projector')) facts.modalities.add('image');
  if (fileNamed(unit, 'modules.json') || fileNamed(unit, 'config_sentence_transformers.json')) {
    facts.capabilities.add('embedding');
    facts.modelType ??= 'embedding_model';
  }
  if (facts.modalities.size === 0) facts.modalities.add('text');

  const metadataPath = fileNamed(unit, 'metadata.json');
  const metadataDoc = metadataPath ? readJsonFile(metadataPath, meter) : undefined;

  const localName = unit.kind === 'ollama' ? `${unit.ollama!.name}:${unit.ollama!.tag}` : basename(unit.localPath);
  const rel = relative(unit.root, unit.localPath).split(sep);
  const io = facts.inputs && facts.outputs ? { inputs: facts.inputs, outputs: facts.outputs } : defaultIo(facts);
  const evidence: CategoryEvidence = {
    text: [unit.idHint, localName, ...rel, facts.architecture ?? '', typeof config?.model_type === 'string' ? config.model_type : '', ...tags, String(fm.pipeline_tag ?? ''), readme?.summary ?? ''],
    fileNames: unit.files.map((f) => basename(f.path)),
    modalities: [...facts.modalities],
    capabilities: [...facts.capabilities],
  };
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const modelType = facts.modelType ?? (facts.modalities.has('image') ? 'vision_model' : facts.modalities.has('audio') ? 'audio_model' : 'language_model');
  const files = unit.files.map((f) => ({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }) }));
  const fields: Findings['fields'] = {
    modelName: localName.replace(/\.(gguf|onnx|safetensors|bin|pt|pth|ckpt|ggml)$/i, '').replace(/-\d{5}-of-\d{5}$/, ''),
    description: readme?.summary ?? '',
    modelType,
    architecture: facts.architecture ?? '',
    modalities: [...facts.modalities],
    capabilities: [...facts.capabilities],
    tags,
    languages: Array.isArray(fm.language) ? fm.language.filter((l): l is string => typeof l === 'string') : typeof fm.language === 'string' ? [fm.language] : [],
    inputs: io.inputs,
    outputs: io.outputs,
    source: 'discovered',
    status: 'available',
    localPath: unit.localPath,
    files,
    // An ONNX export beside other weights (sentence-transformers' onnx/) runs on transformers too.
    supportedBackends: weights.format === 'gguf' ? ['llama-cpp'] : weights.format === 'onnx' || names(unit, /\.onnx$/i).length > 0 ? ['transformers'] : [],
  };
  if (weights.format) fields.format = weights.format;
  if (weights.parameterCount !== undefined) fields.parameterCount = weights.parameterCount;
  for (const [key, value] of [['quantization', facts.quantization], ['attentionType', facts.attentionType], ['contextLength', facts.contextLength], ['license', str(fm.license)], ['baseModel', str(fm.base_model) ?? str(adapter?.base_model_name_or_path)]] as const) {
    if (value !== undefined) (fields as Record<string, unknown>)[key] = value;
  }
  if (config) fields.huggingfaceConfig = config;
  if (facts.vocabSize !== undefined || tokenizerConfig) {
    fields.custom = { ...(facts.vocabSize !== undefined ? { vocabSize: facts.vocabSize } : {}), ...(tokenizerConfig?.model_max_length !== undefined && typeof tokenizerConfig.model_max_length === 'number' && tokenizerConfig.model_max_length < 1e9 ? { modelMaxLength: tokenizerConfig.model_max_length } : {}) };
  }
  const estimate: Description['estimate'] = { ...weights.estimate };
  if (weights.parameterCount !== undefined && weights.format) Object.assign(estimate, { parameterCount: weights.parameterCount, parameterMethod: weights.format });
  return { description: { fields, evidence, overrides: {}, bytesRead: meter.bytes, estimate }, ...(metadataDoc ? { metadataDoc } : {}) };
}
