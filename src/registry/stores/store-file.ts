/**
 * What the file stores (SQLite, DuckDB, JSON) share about their file: it is looked at before
 * anything opens it, and a new one appears whole.
 *
 * A store file is made under a temporary name and linked into place complete, so a store never
 * leaves an empty or half-made file at its path: an empty file there was made by someone else,
 * and is refused like any file of another program.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, fsyncSync, linkSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelManagerError } from '../../errors.js';

/** A temporary file name beside `path`, recognisable by `removeStaleTemps` as left by process `pid`. */
export const tempName = (path: string, pid: number): string => `.${basename(path)}.${pid}.${randomBytes(4).toString('hex')}.tmp`;

// What databases write beside a file while it is open.
const TEMP_SIBLINGS = ['-wal', '-shm', '-journal', '.wal'];

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
  const temp = join(dirname(path), tempName(path, process.pid));
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
    syncFolder(dirname(path));
    return true;
  } finally {
    for (const suffix of ['', ...TEMP_SIBLINGS]) rmSync(`${temp}${suffix}`, { force: true });
  }
}

/** Makes a new name in a folder durable; not every platform lets a folder be opened, hence the catch. */
function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files (and a database's files beside them) that processes killed while
 * writing left beside `path`; returns how many. Call it only once the file is known to be ours.
 */
export async function removeStaleTemps(path: string): Promise<number> {
  const prefix = `.${basename(path)}.`;
  const pattern = new RegExp(`^(\\d+)\\.[0-9a-f]{8}\\.tmp(?:${TEMP_SIBLINGS.map((s) => s.replace('.', '\\.')).join('|')})?$`);
  let removed = 0;
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    const pid = name.startsWith(prefix) ? pattern.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined || isAlive(Number(pid))) continue;
    await unlink(join(dirname(path), name)).then(() => removed++, () => undefined);
  }
  return removed;
}
