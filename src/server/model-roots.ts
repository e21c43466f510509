/**
 * Paths a client may register: only inside the configured model roots.
 *
 * Both sides are resolved with realpath first, so `..` segments and symlinks pointing out of a
 * root are judged by where they really lead, not by how the path is spelled.
 */
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
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

/** The error for a path with nothing there; also given for paths a caller may not reach, so both look the same. */
export function pathNotFound(path: string): ModelManagerError {
  return new ModelManagerError('FILE_NOT_FOUND', `no file or folder at ${path}`, { details: { path } });
}

/**
 * Where `path` leads (absolute, symlinks resolved), whether or not it exists: a missing path is
 * judged by the real path of its deepest existing folder, with the rest as written.
 */
async function whereLeads(path: string): Promise<{ real: string; exists: boolean }> {
  const rest: string[] = [];
  for (let at = resolve(path); ; at = dirname(at)) {
    const real = await realpath(at).catch(() => undefined);
    if (real !== undefined) return { real: join(real, ...rest), exists: rest.length === 0 };
    if (dirname(at) === at) return { real: join(at, ...rest), exists: false };
    rest.unshift(basename(at));
  }
}

/**
 * The real path of `path` when it lies inside one of `roots` (already resolved). A path outside
 * every root is refused the same way whether or not it exists, so the answer says nothing about
 * the files outside the roots.
 * @throws PATH_NOT_ALLOWED outside every root, FILE_NOT_FOUND inside one when nothing is there.
 */
export async function checkModelPath(path: string, roots: readonly string[]): Promise<string> {
  if (roots.length === 0) {
    throw new ModelManagerError('PATH_NOT_ALLOWED', 'this server has no model roots, so no path can be registered; start it with --model-root <dir>', {
      details: { path },
    });
  }
  const { real, exists } = await whereLeads(path);
  if (!roots.some((root) => isInside(root, real))) {
    throw new ModelManagerError('PATH_NOT_ALLOWED', `${path} is outside the server's model roots; put the model under one of them`, {
      details: { path, roots },
    });
  }
  if (!exists) throw pathNotFound(path);
  return real;
}
