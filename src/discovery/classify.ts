/**
 * Which models a folder holds, judged from its file names alone (headers are read later, and
 * only for models whose files changed).
 *
 * - config.json + weights (safetensors, .bin, .onnx, also under `onnx/`, or one GGUF): one HF-style folder model.
 * - GGUF files without that: one model per file or per `-0000N-of-0000M` shard set; `mmproj` files join their siblings.
 * - ONNX files: one folder model when they belong together (one file, or a tokenizer beside them), else one per file.
 * - safetensors without a config.json (a checkpoint, a LoRA adapter): one model per file or
 *   `-0000N-of-0000M` shard set; a folder (below the root) holding just that one is the model, side files included.
 * - loose `.bin/.pt/.pth/.ckpt` and `.ggml` files: one model each (the magic tells PyTorch from legacy GGML).
 */
import { basename, extname, join, relative, sep } from 'node:path';
import { ggufShardSet } from '../formats/gguf-shards.js';
import { SAFETENSORS_SHARD } from '../formats/safetensors.js';
import { folderPrefix, statFile, type Listing, type WarningSink } from './fs-scan.js';
import type { FileRole, FoundFile, ModelUnit, UnitKind } from './types.js';

/** Files beside the weights that describe a model, with their roles. */
export const META_FILES: Record<string, FileRole> = {
  'config.json': 'config', 'generation_config.json': 'config', 'preprocessor_config.json': 'config', 'model_index.json': 'config',
  'modules.json': 'config', 'config_sentence_transformers.json': 'config', 'model.safetensors.index.json': 'config',
  'pytorch_model.bin.index.json': 'config', 'tokenizer_config.json': 'tokenizer', 'tokenizer.json': 'tokenizer',
  'README.md': 'readme', 'readme.md': 'readme', 'metadata.json': 'metadata', 'adapter_config.json': 'config',
};

const PYTORCH = /\.(bin|pt|pth|ckpt)$/i;
const NOT_WEIGHTS = /^(training_args|optimizer|scheduler|rng_state.*|trainer_state)\.(bin|pt|pth)$/i;
const ONNX_DATA = /\.onnx(_data|\.data)$/i;

/** A model id from a path below a root: its parts cleaned to the id alphabet. */
export function idFromPath(root: string, path: string, stripExtension: boolean): string {
  // Walked paths extend their root: slicing is `relative` without normalising both.
  const prefix = folderPrefix(root);
  let rel = path.startsWith(prefix) ? path.slice(prefix.length) : relative(root, path);
  if (rel === '' || rel.startsWith('..')) rel = basename(path);
  if (stripExtension) rel = rel.slice(0, rel.length - extname(rel).length);
  const parts = rel.split(sep).map((p, i) => p.replace(i === 0 ? /[^A-Za-z0-9_.-]+/g : /[^A-Za-z0-9_.:+-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[-.]+|-+$/g, '') || 'model');
  return parts.join('/');
}

interface FolderFacts {
  dir: string;
  root: string;
  listing: Listing;
  warnings: WarningSink;
  formats: Set<string>;
}

function stat(facts: FolderFacts, names: Iterable<string>, role: FileRole): FoundFile[] {
  const out: FoundFile[] = [];
  for (const name of names) {
    const path = facts.listing.files.get(name);
    const f = path && statFile(path, role, facts.warnings);
    if (f) out.push(f);
  }
  return out;
}

const META_ENTRIES = Object.entries(META_FILES);

function metaFiles(facts: FolderFacts): FoundFile[] {
  const out: FoundFile[] = [];
  for (const [name, role] of META_ENTRIES) {
    const path = facts.listing.files.get(name);
    const f = path && statFile(path, role, facts.warnings);
    if (f) out.push(f);
  }
  return out;
}

function unit(facts: FolderFacts, kind: UnitKind, localPath: string, files: FoundFile[], isFile: boolean): ModelUnit {
  return { kind, localPath, root: facts.root, idHint: idFromPath(facts.root, localPath, isFile), files };
}

/** Groups GGUF names into models: shard sets together, projector (`mmproj`) files apart. */
function ggufGroups(names: string[]): { models: string[][]; projectors: string[] } {
  const sets = new Map<string, string[]>();
  const projectors: string[] = [];
  for (const name of names.sort()) {
    if (/mmproj/i.test(name)) projectors.push(name);
    else {
      const key = ggufShardSet(name)?.prefix ?? name;
      sets.set(key, [...(sets.get(key) ?? []), name]);
    }
  }
  return { models: [...sets.values()], projectors };
}

/**
 * The models in one folder, and the subfolders that belong to them (not to be walked again).
 * @param onnxSubdir files of an `onnx/` subfolder, when there is one
 */
export function classifyFolder(facts: FolderFacts, onnxSubdir: string[] = []): { units: ModelUnit[]; claimed: Set<string> } {
  const { listing, dir, formats } = facts;
  const names = [...listing.files.keys()];
  const ext = (re: RegExp) => names.filter((n) => re.test(n));
  const safetensors = formats.has('safetensors') ? ext(/\.safetensors$/i) : [];
  const gguf = formats.has('gguf') ? ext(/\.gguf$/i) : [];
  const onnxFiles = formats.has('onnx') ? ext(/\.onnx$/i) : [];
  const onnxData = ext(ONNX_DATA);
  const pytorch = formats.has('pytorch') || formats.has('ggml') ? ext(PYTORCH).filter((n) => !NOT_WEIGHTS.test(n)) : [];
  const ggml = formats.has('ggml') ? ext(/\.ggml$/i) : [];
  const claimed = new Set<string>();
  const hasConfig = listing.files.has('config.json');
  const { models: ggufModels, projectors } = ggufGroups(gguf);

  const subOnnx = formats.has('onnx') ? onnxSubdir.filter((p) => /\.onnx$/i.test(p) || ONNX_DATA.test(p)) : [];
  const folderWeights = [...safetensors, ...pytorch.filter((n) => /^pytorch_model.*\.bin$|^model.*\.(bin|pt)$/i.test(n)), ...onnxFiles, ...onnxData];
  if (hasConfig && (folderWeights.length > 0 || subOnnx.length > 0 || (ggufModels.length === 1 && safetensors.length === 0))) {
    const weights = folderWeights.length > 0 || subOnnx.length > 0 ? folderWeights : [...ggufModels[0]!, ...projectors];
    const files = [...stat(facts, weights, 'weights'), ...metaFiles(facts)];
    for (const p of subOnnx) {
      const f = statFile(p, 'weights', facts.warnings);
      if (f) files.push(f);
    }
    if (subOnnx.length > 0) claimed.add(join(dir, 'onnx'));
    const kind = folderWeights.length === 0 && subOnnx.length === 0 ? 'gguf' : 'hf-folder';
    return { units: [unit(facts, kind, dir, files, false)], claimed };
  }

  const units: ModelUnit[] = [];
  for (const group of ggufModels) {
    const files = [...stat(facts, [...group, ...projectors], 'weights'), ...stat(facts, ['metadata.json'].filter((n) => listing.files.has(n)), 'metadata')];
    // A shard set is loaded through its first shard, so that file is its path; the id drops the shard suffix.
    const first = listing.files.get(group[0]!)!;
    const set = ggufShardSet(group[0]!);
    const u = unit(facts, 'gguf', first, files, true);
    if (set) u.idHint = idFromPath(facts.root, join(dir, set.prefix), false);
    units.push(u);
  }
  if (ggufModels.length === 0 && projectors.length > 0) units.push(unit(facts, 'gguf', listing.files.get(projectors[0]!)!, stat(facts, projectors, 'weights'), true));

  if (onnxFiles.length > 0) {
    const together = dir !== facts.root && (onnxFiles.length === 1 || listing.files.has('tokenizer.json'));
    if (together) units.push(unit(facts, 'onnx', dir, [...stat(facts, [...onnxFiles, ...onnxData], 'weights'), ...metaFiles(facts)], false));
    else for (const name of onnxFiles) {
      const data = onnxData.filter((d) => d.startsWith(name));
      units.push(unit(facts, 'onnx', listing.files.get(name)!, stat(facts, [name, ...data], 'weights'), true));
    }
  }
  // Safetensors without a config.json: a set's index (`model.safetensors.index.json`) joins it.
  const safetensorsSets = new Map<string, string[]>();
  for (const name of safetensors.sort()) {
    const key = SAFETENSORS_SHARD.exec(name)?.[1] ?? name.slice(0, -'.safetensors'.length);
    safetensorsSets.set(key, [...(safetensorsSets.get(key) ?? []), name]);
  }
  const alone = safetensorsSets.size === 1 && units.length === 0 && pytorch.length === 0 && ggml.length === 0 && dir !== facts.root;
  for (const [key, set] of safetensorsSets) {
    const index = `${key}.safetensors.index.json`;
    const files = [...stat(facts, set, 'weights'), ...stat(facts, [index], 'config')];
    if (alone) {
      files.push(...metaFiles(facts).filter((f) => basename(f.path) !== index));
      units.push(unit(facts, 'safetensors', dir, files, false));
      continue;
    }
    const u = unit(facts, 'safetensors', listing.files.get(set[0]!)!, files, true);
    if (SAFETENSORS_SHARD.test(set[0]!)) u.idHint = idFromPath(facts.root, join(dir, key), false);
    units.push(u);
  }
  for (const name of [...pytorch, ...ggml]) {
    units.push(unit(facts, /\.ggml$/i.test(name) ? 'ggml' : 'weights-file', listing.files.get(name)!, stat(facts, [name], 'weights'), true));
  }
  return { units: units.filter((u) => u.files.some((f) => f.role === 'weights')), claimed };
}
