/**
 * Paths a client may register: only inside the configured model roots.
 *
 * Both sides are resolved with realpath first, so `..` segments and symlinks pointing out of a
 * root are judged by where they really lead, not by how the path is spelled.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { ModelManagerError } from '../errors.js';

/** Resolves roots once (missing ones are dropped: nothing can be inside them). */
export async function resolveModelRoots(roots: readonly string[]): Promise<string[]> {
  const resolved = await Promise.all(roots.map((r) => realpath(resolve(r)).catch(() => undefined)));
  return [...new Set(resolved.filter((r): r is string => r !== undefined))];
}

/** True when `path` is `root` or below it (both already real paths). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The real path of `path` when it lies inside one of `roots` (already resolved).
 * @throws PATH_NOT_ALLOWED outside every root, FILE_NOT_FOUND when it does not exist.
 */
export async function checkModelPath(path: string, roots: readonly string[]): Promise<string> {
  if (roots.length === 0) {
    throw new ModelManagerError('PATH_NOT_ALLOWED', 'this server has no model roots, so no path can be registered; start it with --model-root <dir>', {
      details: { path },
    });
  }
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch (error) {
    throw new ModelManagerError('FILE_NOT_FOUND', `no file or folder at ${path}`, { cause: error, details: { path } });
  }
  if (!roots.some((root) => isInside(root, real))) {
    throw new ModelManagerError('PATH_NOT_ALLOWED', `${path} is outside the server's model roots; put the model under one of them`, {
      details: { path, roots },
    });
  }
  return real;
}
