/**
 * Which files of a repo a pull fetches: what a built-in backend runs (one GGUF quantization, or one
 * ONNX variant of a transformers.js / sentence-transformers export) plus the small files that
 * describe it (configs, tokenizer, README), or what `--include` names. Pure: a file list in, a
 * choice out, so the same rules pick a variant among the files of a cached snapshot.
 */
import picomatch from 'picomatch';
import { ModelManagerError } from '../../errors.js';
import { ONNX_VARIANT, oneOnnxVariant } from '../../formats/index.js';

/** One file of a repo as the hub lists it. */
export interface RepoFile {
  path: string;
  size: number;
  /** The git blob id (sha1): the blob's name in the cache for files not in LFS. */
  oid?: string;
  /** LFS files: the content's sha256, the blob's name in the cache. */
  lfs?: { sha256: string; size: number };
}

export interface FileSelection {
  files: RepoFile[];
  /** `gguf` or `onnx`: the weights a built-in backend runs; undefined when only `--include` chose. */
  format?: 'gguf' | 'onnx';
  /** The quantization or ONNX variant chosen (`Q4_K_M`, `quantized`, `fp32`...). */
  variant?: string;
  /** The file a backend loads (the first GGUF part, or the ONNX graph), relative to the snapshot. */
  weights?: string;
}

export interface SelectOptions {
  /** The tag after `:` in `org/repo:tag`. Defaults to the repo's default variant. */
  variant?: string;
  /** Globs of further files to fetch (picomatch, against the repo path). */
  include?: readonly string[];
  /** Globs of files not to fetch. */
  exclude?: readonly string[];
  /** The repo, for messages. */
  repoId: string;
}

/** Files that describe a model for every runtime: configs, tokenizers, chat templates, the card, sentence-transformers modules. */
const SIDE_FILE = /^(?:[^/]+\.(?:json|txt|model|jinja|md)|\d+_[A-Za-z]+\/config\.json)$/i;
/** Weight indexes are JSON too, but belong to weights not pulled. */
const WEIGHTS_INDEX = /\.(?:safetensors|bin|pt)\.index\.json$/i;

/** GGUF quantizations by preference: Q4_K_M first (the usual default, as Ollama's for `hf.co/` names), then the closest in size and quality. */
const GGUF_PREFERENCE = [
  'Q4_K_M', 'Q4_K_S', 'Q4_K', 'Q4_0', 'IQ4_XS', 'IQ4_NL', 'Q4_1', 'Q5_K_M', 'Q5_K_S', 'Q5_0', 'Q5_1', 'Q3_K_L', 'Q3_K_M', 'Q3_K_S',
  'Q6_K', 'IQ3_M', 'IQ3_XS', 'Q8_0', 'Q2_K', 'IQ2_M', 'BF16', 'F16', 'F32',
];
const GGUF_QUANT = /(?:^|[-._/])((?:I?Q\d(?:_[A-Z0-9]+)*)|BF16|F16|F32)(?=[-._/])/gi;
const GGUF_SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** ONNX variants by preference when the name has no tag: full precision first, as transformers.js loads by default. */
const ONNX_DEFAULT_ORDER = ['fp32', 'fp16', 'quantized', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'];

function isGguf(path: string): boolean {
  return /\.gguf$/i.test(path) && !/(?:^|\/)mmproj[^/]*$/i.test(path);
}

/** The quantization a GGUF file name carries (`model.Q4_K_M.gguf` -> `Q4_K_M`), upper-cased. */
export function ggufQuantization(path: string): string | undefined {
  const matches = [...path.replace(GGUF_SHARD, '.gguf').matchAll(GGUF_QUANT)];
  return matches.at(-1)?.[1]?.toUpperCase();
}

/** The split set a GGUF file belongs to: its name without `-0000k-of-0000n`. */
function ggufSet(path: string): string {
  return path.replace(GGUF_SHARD, '.gguf');
}

function rank(quant: string | undefined): number {
  const i = quant === undefined ? -1 : GGUF_PREFERENCE.indexOf(quant);
  return i === -1 ? GGUF_PREFERENCE.length : i;
}

function chooseGguf(files: RepoFile[], variant: string | undefined, repoId: string): FileSelection {
  const ggufs = files.filter((f) => isGguf(f.path));
  const quantOf = (f: RepoFile) => ggufQuantization(f.path);
  let chosen: RepoFile[];
  if (variant !== undefined) {
    const wanted = variant.toUpperCase();
    chosen = ggufs.filter((f) => quantOf(f) === wanted);
    if (chosen.length === 0) {
      const offered = [...new Set(ggufs.map(quantOf).filter((q) => q !== undefined))];
      throw new ModelManagerError('INVALID_ARGUMENT', `${repoId} has no GGUF file of quantization "${variant}"; it has ${offered.join(', ') || 'none named by quantization'}`, {
        details: { repoId, variant, offered },
      });
    }
  } else {
    const best = Math.min(...ggufs.map((f) => rank(quantOf(f))));
    chosen = ggufs.filter((f) => rank(quantOf(f)) === best);
  }
  // Several models of one quantization (7b and 13b files side by side): the first set by name.
  const set = chosen.map((f) => ggufSet(f.path)).sort()[0]!;
  const parts = chosen.filter((f) => ggufSet(f.path) === set).sort((a, b) => (a.path < b.path ? -1 : 1));
  return { files: parts, format: 'gguf', variant: quantOf(parts[0]!) ?? variant, weights: parts[0]!.path };
}

/**
 * The variant of an ONNX graph: transformers.js's suffixes (`model_quantized.onnx` -> `quantized`,
 * `decoder_model_merged_q4.onnx` -> `q4`), sentence-transformers' exports (`model_O4.onnx` -> `o4`,
 * `model_qint8_avx512.onnx`), and `fp32` for the plain graph.
 */
export function onnxVariantOf(path: string): string {
  const known = ONNX_VARIANT.exec(path)?.[1];
  if (known) return known.toLowerCase();
  return /(?:^|\/)model_([^/]+)\.onnx$/i.exec(path)?.[1]?.toLowerCase() ?? 'fp32';
}

function chooseOnnx(files: RepoFile[], variant: string | undefined, repoId: string): FileSelection {
  const graphs = files.filter((f) => /\.onnx$/i.test(f.path));
  const offered = [...new Set(graphs.map((f) => onnxVariantOf(f.path)))];
  const wanted = variant?.toLowerCase() === 'default' ? 'fp32' : variant?.toLowerCase();
  if (wanted !== undefined && !offered.includes(wanted)) {
    throw new ModelManagerError('INVALID_ARGUMENT', `${repoId} has no ONNX variant "${variant}"; it has ${offered.join(', ')}`, { details: { repoId, variant, offered } });
  }
  // Without a tag: the full-precision graph, else the closest to it.
  const picked = wanted ?? ONNX_DEFAULT_ORDER.find((v) => offered.includes(v)) ?? offered.sort()[0]!;
  const ofVariant = graphs.filter((f) => onnxVariantOf(f.path) === picked);
  const kept = new Set(oneOnnxVariant(ofVariant.map((f) => f.path)));
  const chosen = ofVariant.filter((f) => kept.has(f.path));
  // External weights beside a graph: `model.onnx_data`, `model.onnx_data_1`.
  const data = files.filter((f) => chosen.some((g) => f.path.startsWith(`${g.path}_data`) || f.path.startsWith(`${g.path.replace(/\.onnx$/i, '')}.onnx_data`)));
  const main = chosen.find((f) => /(?:^|\/)model(?:_[^/]*)?\.onnx$/i.test(f.path)) ?? chosen[0]!;
  return { files: [...chosen, ...data.filter((f) => !chosen.includes(f))], format: 'onnx', variant: picked, weights: main.path };
}

/** Weights no built-in backend runs: named so the user knows what `--include` would fetch. */
function otherWeights(files: RepoFile[]): RepoFile[] {
  return files.filter((f) => /\.(?:safetensors|bin|pt|pth|ckpt|msgpack|h5|ggml)$/i.test(f.path));
}

/**
 * The files to pull from a repo's listing.
 * @throws ModelManagerError INVALID_ARGUMENT (no such variant), UNSUPPORTED_FORMAT (no weights a built-in backend runs, and no `--include`)
 */
export function selectFiles(all: readonly RepoFile[], { variant, include = [], exclude = [], repoId }: SelectOptions): FileSelection {
  const files = [...all];
  const hasGguf = files.some((f) => isGguf(f.path));
  const hasOnnx = files.some((f) => /\.onnx$/i.test(f.path));
  const ggufTag = variant !== undefined && files.some((f) => isGguf(f.path) && ggufQuantization(f.path) === variant.toUpperCase());
  let selection: FileSelection = { files: [] };
  if (hasGguf && (variant === undefined || ggufTag || !hasOnnx)) selection = chooseGguf(files, variant, repoId);
  else if (hasOnnx) selection = chooseOnnx(files, variant, repoId);
  else if (include.length === 0) {
    const weights = otherWeights(files);
    throw new ModelManagerError('UNSUPPORTED_FORMAT', weights.length === 0
      ? `${repoId} has no weight files a built-in backend runs (GGUF or ONNX); pull files by name with --include`
      : `${repoId} has only ${[...new Set(weights.map((f) => f.path.split('.').pop()))].join('/')} weights, which no built-in backend runs (they need GGUF or ONNX): look for a GGUF or ONNX export of it, or fetch these files anyway with --include: ${weights.slice(0, 5).map((f) => f.path).join(', ')}${weights.length > 5 ? ', ...' : ''}`,
    { details: { repoId, weights: weights.map((f) => f.path) } });
  } else if (variant !== undefined) {
    throw new ModelManagerError('INVALID_ARGUMENT', `${repoId} has no GGUF or ONNX weights, so it has no variant "${variant}": name the files with --include`, { details: { repoId, variant } });
  }
  const included = include.length === 0 ? () => false : picomatch([...include], { dot: true });
  const excluded = exclude.length === 0 ? () => false : picomatch([...exclude], { dot: true });
  const side = (f: RepoFile) => SIDE_FILE.test(f.path) && !WEIGHTS_INDEX.test(f.path);
  const chosen = new Set(selection.files);
  const result = files.filter((f) => (chosen.has(f) || side(f) || included(f.path)) && !excluded(f.path));
  const weights = result.some((f) => f.path === selection.weights) ? selection.weights : undefined;
  return { ...selection, weights, files: result.sort((a, b) => (a.path < b.path ? -1 : 1)) };
}
