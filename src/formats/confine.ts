/**
 * Keeping reads inside a model's folder. Names a file gives (a shard index's `weight_map`, a
 * record's `files[]`) are untrusted: a name that climbs out (`../../etc/passwd`) or a symlink
 * that leads elsewhere must never make a reader open a file outside the folder it was given.
 * Paths are judged by where they really lead (symlinks resolved), not by how they are spelled.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** True when `path` is `dir` or lies below it (both absolute and normalised: no symlinks resolved). */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/** `name` resolved against `dir`, or undefined when it is absolute or climbs out of `dir`. */
export function pathInside(dir: string, name: string): string | undefined {
  if (isAbsolute(name)) return undefined;
  const path = resolve(dir, name);
  return isInside(path, dir) ? path : undefined;
}

/** The real path of `path` (symlinks resolved), or undefined when it does not exist or cannot be resolved. */
export function realPath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/**
 * Where `path` really leads, when that lies inside the folder whose real path is `realDir`:
 * `'outside'` when it leads elsewhere, `'missing'` when nothing is there.
 */
export function realPathWithin(path: string, realDir: string): string | 'outside' | 'missing' {
  const real = realPath(path);
  if (real === undefined) return 'missing';
  return isInside(real, realDir) ? real : 'outside';
}

const HF_SNAPSHOT = new RegExp(`^(.*\\${sep}models--[^\\${sep}]+)\\${sep}snapshots\\${sep}[^\\${sep}]+(?:\\${sep}|$)`);
const OLLAMA_MANIFEST = new RegExp(`^(.*)\\${sep}manifests(?:\\${sep}[^\\${sep}]+){4}$`);

/**
 * The folder a model's files must really lie in, from the layout of its local path: an HF cache
 * snapshot's repo folder (`models--org--name`: a snapshot's files are links into its `blobs/`),
 * an Ollama manifest's store (its layers live in `blobs/`), else the model's own folder (for a
 * model that is one file, the folder holding it).
 */
export function modelFolder(localPath: string, isFile: boolean): string {
  const hf = HF_SNAPSHOT.exec(localPath);
  if (hf) return hf[1]!;
  const ollama = isFile ? OLLAMA_MANIFEST.exec(localPath) : null;
  if (ollama) return ollama[1]!;
  return isFile ? dirname(localPath) : localPath;
}
