/**
 * A hub id's model in the HF cache, found without the network: the snapshot `main` names, and in
 * it the files the same rules as a pull choose (`org/name:Q8_0` the Q8_0 GGUF file).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findCachedSnapshot } from '../cache.js';
import { parseHubName } from './hub-name.js';
import { selectFiles, type RepoFile } from './select-files.js';

/** Files of a snapshot folder, two levels deep (`onnx/`, a quantization's folder). */
function snapshotFiles(dir: string, prefix = '', depth = 0): RepoFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name): RepoFile[] => {
    const info = statSync(join(dir, name), { throwIfNoEntry: false });
    if (info?.isDirectory()) return depth < 1 ? snapshotFiles(join(dir, name), `${prefix}${name}/`, depth + 1) : [];
    return info?.isFile() ? [{ path: `${prefix}${name}`, size: info.size }] : [];
  });
}

/**
 * What the runtime loads for `name` from the cache at `cacheDir`: the weights file of the variant
 * (the default one without a tag), the snapshot folder when no built-in backend's weights are
 * there, or undefined when the cache lacks the model or the variant asked for.
 */
export function cachedModelPath(name: string, cacheDir: string): string | undefined {
  const parsed = parseHubName(name);
  if (!parsed) return undefined;
  const snapshot = findCachedSnapshot(parsed.repoId, { cacheDir });
  if (!snapshot) return undefined;
  try {
    const files = snapshotFiles(snapshot.path);
    const selection = selectFiles(files, { repoId: parsed.repoId, ...(parsed.variant ? { variant: parsed.variant } : {}) });
    // One variant in the snapshot: the folder names it (as huggingface_hub users expect); several: the chosen one's file.
    const weightFiles = files.filter((f) => /\.(gguf|onnx)$/i.test(f.path));
    const only = weightFiles.every((f) => selection.files.some((s) => s.path === f.path));
    if (selection.weights === undefined || (parsed.variant === undefined && only)) return snapshot.path;
    return join(snapshot.path, ...selection.weights.split('/'));
  } catch {
    return parsed.variant === undefined ? snapshot.path : undefined;
  }
}
