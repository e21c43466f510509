/**
 * What the file stores (SQLite, DuckDB, JSON) share about their file: it is looked at before
 * anything opens it, and a new one appears whole.
 *
 * A store file is made under a temporary name and linked into place complete, so a store never
 * leaves an empty or half-made file at its path: an empty file there was made by someone else,
 * and is refused like any file of another program.
 */
import { closeSync, constants, copyFileSync, linkSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DATABASE_SIBLINGS, syncFolderSync, tempPath } from '../../atomic-file.js';
import { ModelManagerError } from '../../errors.js';


/**
 * The size of the store file at `path`, or undefined when there is none.
 * @throws ModelManagerError STORE_IO when `path` is something other than a file
 */
export function storeFileSize(path: string): number | undefined {
  try {
    const info = statSync(path);
    if (!info.isFile()) throw new ModelManagerError('STORE_IO', `${path} is not a file; point --db at a registry file`, { details: { path } });
    return info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The first `length` bytes of a file (fewer when it is shorter). */
export function readHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    return head.subarray(0, readSync(fd, head, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/** The refusal of an empty file at a store's path, which no Model Manager store leaves behind. */
export function emptyFileError(path: string, what: string): ModelManagerError {
  return new ModelManagerError('STORE_FOREIGN', `${path} is an empty file, not a ${what} registry (Model Manager creates its files whole); it was left untouched. Delete it to start a new registry there, or point --db at another file.`, {
    details: { path },
  });
}

/** The refusal of a file that looks like a store's but is damaged. */
export function corruptFileError(path: string, what: string, problem: string, cause?: unknown): ModelManagerError {
  return new ModelManagerError('STORE_CORRUPT', `${path} is not a readable ${what} registry (${problem}); it was left untouched. Restore it from a backup or point --db elsewhere.`, {
    details: { path },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Creates the store file at `path` whole: `build` makes it under a temporary name beside it
 * (closing it when done), then it is linked into place only if nothing is there yet.
 * @returns false when another process created the file first (its file stays, ours goes).
 */
export async function createWhole(path: string, build: (tempPath: string) => Promise<void> | void): Promise<boolean> {
  const temp = tempPath(path);
  try {
    await build(temp);
    try {
      linkSync(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      // A file system without hard links: an exclusive copy still never replaces another file.
      try {
        copyFileSync(temp, path, constants.COPYFILE_EXCL);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw copyError;
      }
    }
    syncFolderSync(dirname(path));
    return true;
  } finally {
    for (const suffix of ['', ...DATABASE_SIBLINGS]) rmSync(`${temp}${suffix}`, { force: true });
  }
}
