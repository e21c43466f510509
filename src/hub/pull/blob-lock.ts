/**
 * One lock per blob, across processes, so two pulls of the same model fetch each file once: the
 * second waits while the first downloads, then finds the blob in place. As huggingface_hub keeps
 * its locks in `<cache>/.locks/models--org--name/<etag>.lock`, these live in the same folder; they
 * are proper-lockfile's directory locks (a lock held by a process that died goes stale and is
 * taken over), named `<etag>.pull.lock` so they never collide with huggingface_hub's flock files.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { pause } from './hub-request.js';

/** A lock not refreshed for this long belongs to a process that is gone. */
const STALE_MS = 20_000;
const POLL_MS = 200;

export interface BlobLockOptions {
  signal?: AbortSignal;
  /** Called once when another process holds the lock. */
  onWait?: () => void;
  /** True when the work is done meanwhile (the blob appeared): the lock is then not needed. */
  isDone: () => boolean;
}

/**
 * Runs `work` holding the lock of blob `etag`, unless `isDone()` turns true while waiting for it.
 * @returns what `work` returned, or undefined when it was not needed
 */
export async function withBlobLock<T>(locksDir: string, etag: string, { signal, onWait, isDone }: BlobLockOptions, work: () => Promise<T>): Promise<T | undefined> {
  await mkdir(locksDir, { recursive: true });
  const lockPath = join(locksDir, `${etag}.pull.lock`);
  let waited = false;
  for (;;) {
    if (isDone()) return undefined;
    let release: (() => Promise<void>) | undefined;
    try {
      release = await lockfile.lock(join(locksDir, etag), {
        lockfilePath: lockPath,
        realpath: false,
        stale: STALE_MS,
        update: STALE_MS / 4,
        // A lock taken over while held (this process stalled for longer than STALE_MS) costs at
        // most a second download of the same bytes: the blob is verified before it is moved in.
        onCompromised: () => undefined,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (!waited) onWait?.();
      waited = true;
      await pause(POLL_MS, signal);
      continue;
    }
    try {
      return isDone() ? undefined : await work();
    } finally {
      await release().catch(() => undefined);
    }
  }
}
