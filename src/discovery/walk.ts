/**
 * Walks one root and returns the models under it (file names and stats only, no headers).
 */
import { statSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import picomatch from 'picomatch';
import { modelFolder } from '../formats/confine.js';
import { classifyFolder, idFromPath } from './classify.js';
import { folderPrefix, listFolder, realFolder, type WarningSink, Yielder } from './fs-scan.js';
import { hfCacheUnits, isHfCacheRepo, isOllamaStore, ollamaUnits } from './stores.js';
import type { ModelUnit } from './types.js';

export interface WalkOptions {
  maxDepth: number;
  scanSubdirectories: boolean;
  excludePatterns: readonly string[];
  /** Registry formats let through (safetensors, pytorch, onnx, gguf, ggml). */
  formats: Set<string>;
  /** Whether symlinks that lead outside the root are followed (those inside it always are). Defaults to false. */
  followSymlinks?: boolean;
  warnings: WarningSink;
  yielder?: Yielder;
  /** Called after each folder. */
  onFolder?: (path: string) => void;
  /** Called with the models of each folder as they are found (a scan starts reading them while the walk goes on). */
  onUnits?: (units: ModelUnit[]) => void;
  /** Called with the files of each folder that no model took (discovery plugins may take them). */
  onUnclaimed?: (files: string[]) => void;
}

export interface WalkResult {
  units: ModelUnit[];
  /** Folders that could not be read: models below them are not marked missing. */
  unreadable: string[];
}

/**
 * Globs as one RegExp of picomatch's own: every name of a walk is tested once, where picomatch's
 * matcher of a list tests each glob in turn (0.1 against 0.4-0.8 µs a name, ~40 ms of a
 * 10,000-model scan). None for no globs.
 */
function globsRegExp(globs: readonly string[]): RegExp | undefined {
  return globs.length === 0 ? undefined : new RegExp(globs.map((g) => picomatch.makeRe(g, { dot: true }).source).join('|'));
}

/** A matcher of exclude globs against a name, or against the path below the root for globs with a `/`. */
export function excluder(root: string, patterns: readonly string[]): (name: string, path: string) => boolean {
  const byName = globsRegExp(patterns.filter((p) => !p.includes('/')));
  const byPath = globsRegExp(patterns.filter((p) => p.includes('/')));
  return (name, path) => byName?.test(name) === true || (byPath !== undefined && byPath.test(relative(root, path).split('\\').join('/')));
}

/** Finds every model under `root` (a folder, or one model file). */
export async function walkRoot(root: string, options: WalkOptions): Promise<WalkResult> {
  const { warnings, formats } = options;
  const yielder = options.yielder ?? new Yielder();
  const isExcluded = excluder(root, options.excludePatterns);
  const result: WalkResult = { units: [], unreadable: [] };
  const found = (units: ModelUnit[]) => {
    result.units.push(...units);
    if (units.length > 0) options.onUnits?.(units);
  };
  const rootStat = statSync(root, { throwIfNoEntry: false });
  if (!rootStat) {
    warnings.add(root, 'root does not exist');
    result.unreadable.push(root);
    return result;
  }
  if (rootStat.isFile()) {
    // A single file given as a root: classify its folder, keep what is this file.
    const listing = { files: new Map([[basename(root), root]]), dirs: new Map<string, string>(), linkedDirs: new Set<string>() };
    const { units } = classifyFolder({ dir: dirname(root), root: dirname(root), listing, warnings, formats });
    for (const u of units) u.idHint = idFromPath(dirname(root), root, true);
    found(units);
    if (units.length === 0 && options.onUnclaimed) options.onUnclaimed([root]);
    else if (units.length === 0) warnings.add(root, 'not a model file this scan reads (see supported_formats)');
    return result;
  }
  // Real paths of the folders walked: a folder reached again through a symlink is a loop or a
  // duplicate. Plain subfolders extend their parent's real path; only symlinks need resolving.
  const seen = new Map<string, string>();
  const rootReal = realFolder(root);
  // Symlinks must lead inside the root (unless followSymlinks); for a root inside an HF cache
  // repo, inside the repo, whose snapshots' files are links into its blobs/.
  const inside = options.followSymlinks || rootReal === undefined ? undefined : modelFolder(rootReal, false);
  const listed = { isExcluded, warnings, ...(inside === undefined ? {} : { inside }) };
  const stack: { dir: string; real: string | undefined; depth: number }[] = [{ dir: root, real: rootReal, depth: 0 }];
  while (stack.length > 0) {
    const { dir, real, depth } = stack.pop()!;
    await yielder.maybe();
    if (real !== undefined) {
      const before = seen.get(real);
      if (before !== undefined) {
        warnings.add(dir, `symlink loop or second link: this folder was already scanned as ${before}`);
        continue;
      }
      seen.set(real, dir);
    }
    const listing = listFolder(dir, listed);
    options.onFolder?.(dir);
    if (!listing) {
      result.unreadable.push(dir);
      continue;
    }
    const ctx = { root, formats, ...listed };
    if (isHfCacheRepo(basename(dir), listing)) {
      found(hfCacheUnits(dir, ctx));
      continue;
    }
    if (isOllamaStore(listing)) {
      found(ollamaUnits(dir, ctx));
      continue;
    }
    const onnxDir = listing.dirs.get('onnx');
    const onnxFiles = onnxDir && listing.files.has('config.json') ? [...(listFolder(onnxDir, listed)?.files.values() ?? [])] : [];
    const { units, claimed } = classifyFolder({ dir, root, listing, warnings, formats }, onnxFiles);
    found(units);
    if (options.onUnclaimed) {
      const taken = new Set(units.flatMap((u) => u.files.map((f) => f.path)));
      const rest = [...listing.files.values()].filter((p) => !taken.has(p));
      if (rest.length > 0) options.onUnclaimed(rest);
    }
    // An HF-style folder is one model: its subfolders (checkpoints, onnx/) are not separate models.
    if (units.some((u) => u.localPath === dir && u.kind === 'hf-folder')) continue;
    if (!options.scanSubdirectories || depth >= options.maxDepth) continue;
    for (const [name, path] of listing.dirs) {
      if (claimed.has(path)) continue;
      const childReal = listing.linkedDirs.has(name) || real === undefined ? realFolder(path) : folderPrefix(real) + name;
      stack.push({ dir: path, real: childReal, depth: depth + 1 });
    }
  }
  return result;
}
