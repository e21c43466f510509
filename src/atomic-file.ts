/**
 * How Model Manager replaces a file of its own (the JSON registry, exports, API keys, the scan
 * index, the embedding cache): a temp file beside it, written and fsynced, renamed over it, and
 * the folder fsynced, so a reader, a crash or a power cut sees the old file or the new one, never
 * a torn or an empty one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Mode of the new file, set before a byte is written (0o600 for secrets). Defaults to 0o666 less the umask. */
  mode?: number;
}

/** `.<name>.<pid>.<random>.tmp` beside the file: the pid tells a dead writer's leftovers (removeStaleTemps). */
export function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** What databases write beside a file while it is open (a store built under a temp name leaves these too). */
export const DATABASE_SIBLINGS = ['-wal', '-shm', '-journal', '.wal'];

/** Replaces `path` with `data` atomically and durably (see above). */
export async function writeFileAtomically(path: string, data: string | Uint8Array, { mode }: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPath(path);
  const file = await open(tmp, 'wx', mode ?? 0o666);
  try {
    // The umask may have taken bits away; an explicit mode is meant as given.
    if (mode !== undefined) await file.chmod(mode);
    await file.writeFile(data);
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await file.close();
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  // Make the rename itself durable; not every platform lets a folder be opened, hence the catch.
  const dir = await open(dirname(path), 'r').catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}

/** Makes a new name in a folder durable, for writers that must not yield; best effort, as above. */
export function syncFolderSync(dir: string): void {
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
 * Removes the temp files (and a database's files beside them) that writers of `path` killed
 * mid-write left beside it; returns how many. Call it only once the file is known to be ours.
 */
export async function removeStaleTemps(path: string): Promise<number> {
  const prefix = `.${basename(path)}.`;
  const pattern = new RegExp(`^(\\d+)\\.[0-9a-f]{8}\\.tmp(?:${DATABASE_SIBLINGS.map((s) => s.replace('.', '\\.')).join('|')})?$`);
  let removed = 0;
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    const pid = name.startsWith(prefix) ? pattern.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined || isAlive(Number(pid))) continue;
    await unlink(join(dirname(path), name)).then(() => removed++, () => undefined);
  }
  return removed;
}
