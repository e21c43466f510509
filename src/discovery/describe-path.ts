/**
 * The one model at a path (a model folder or file), found and described exactly as a scan finds
 * and describes it, without touching the registry: `Discovery.register` stores what this finds,
 * and `mm estimate <path>` sizes it, so a path is sized the way the scan sized it.
 */
import { resolve, sep } from 'node:path';
import { ModelManagerError } from '../errors.js';
import { describeUnit, type Description } from './describe.js';
import { WarningSink } from './fs-scan.js';
import { DEFAULT_CATEGORIZATION_RULES, type CategorizationRules } from './rules.js';
import { allowedFormats, parseDiscoverySettings, type DiscoverySettings } from './settings.js';
import type { ModelUnit, ScanWarning } from './types.js';
import { walkRoot } from './walk.js';

export interface ModelAtPath {
  unit: ModelUnit;
  description: Description;
  /** What could not be read (a broken side file), as a scan would log it. */
  warnings: ScanWarning[];
}

export interface DescribeAtOptions {
  /** Formats and excludes. Defaults to the defaults of `model_discovery.json`. */
  settings?: DiscoverySettings;
  /** Categorization rules. Defaults to the shipped ones. */
  rules?: CategorizationRules;
}

/** The Ollama store of a manifest, `<store>/manifests/<host>/<namespace>/<model>/<tag>`. */
function ollamaStoreOf(path: string): string | undefined {
  const parts = path.split(sep);
  const at = parts.lastIndexOf('manifests');
  return at > 0 && parts.length - at === 5 ? parts.slice(0, at).join(sep) : undefined;
}

/**
 * The model at `path`: the path itself when it is a model (a folder, a weights file or an Ollama
 * manifest), else the one model in the folder.
 * @throws FILE_NOT_FOUND when no model is there, INVALID_ARGUMENT when the folder holds several
 */
export async function findModelUnit(path: string, settings: DiscoverySettings, warnings: WarningSink): Promise<ModelUnit> {
  const target = resolve(path);
  const walk = (root: string, sink = warnings) => walkRoot(root, { maxDepth: 1, scanSubdirectories: true, excludePatterns: settings.excludePatterns, formats: allowedFormats(settings), followSymlinks: settings.followSymlinks, warnings: sink });
  // An Ollama model is its manifest, which tells what it is only beside the store's blobs.
  const store = ollamaStoreOf(target);
  const manifest = store === undefined ? undefined : (await walk(store, new WarningSink())).units.find((u) => u.localPath === target);
  if (manifest) return manifest;
  const { units } = await walk(target);
  const unit = units.find((u) => u.localPath === target) ?? (units.length === 1 ? units[0] : undefined);
  if (unit) return unit;
  if (units.length > 1) {
    throw new ModelManagerError('INVALID_ARGUMENT', `${target} holds ${units.length} models; name one of: ${units.slice(0, 5).map((u) => u.localPath).join(', ')}`, { details: { path: target, models: units.map((u) => u.localPath) } });
  }
  const why = warnings.items[0] ? `: ${warnings.items[0].reason}` : '';
  throw new ModelManagerError('FILE_NOT_FOUND', `no model files found at ${target}${why} (looked for safetensors, GGUF, ONNX, PyTorch or GGML weights)`, { details: { path: target } });
}

/**
 * Finds and describes the model at `path` (headers and side files only) as a scan would.
 * @throws FILE_NOT_FOUND, INVALID_ARGUMENT (see findModelUnit), INVALID_FILE for unreadable weights headers
 */
export async function describeModelAt(path: string, { settings = parseDiscoverySettings({}), rules = DEFAULT_CATEGORIZATION_RULES }: DescribeAtOptions = {}): Promise<ModelAtPath> {
  const warnings = new WarningSink();
  const unit = await findModelUnit(path, settings, warnings);
  const description = await describeUnit(unit, rules, (p, r) => warnings.add(p, r));
  return { unit, description, warnings: warnings.items };
}
