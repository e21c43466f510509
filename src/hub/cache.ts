/**
 * The Hugging Face cache layout, as huggingface_hub writes it:
 * `<cache>/models--org--name/{refs/<branch>, snapshots/<commit>/<files>, blobs/<hash>}`.
 * Snapshot files are symlinks into `blobs/`; reading through them needs nothing special.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `org/name` -> `models--org--name`. */
export function cacheFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/**
 * The snapshot folder of a repo at a revision (branch, tag or commit), or undefined when the
 * cache does not hold it. A repo with no ref file but exactly one snapshot uses that one.
 */
export async function findCachedSnapshot(repoId: string, { cacheDir, revision = 'main' }: { cacheDir: string; revision?: string }): Promise<{ path: string; commit: string } | undefined> {
  const repo = join(cacheDir, cacheFolderName(repoId));
  const snapshots = join(repo, 'snapshots');
  let commit: string | undefined;
  if (/^[0-9a-f]{40}$/.test(revision)) commit = revision;
  else commit = (await readFile(join(repo, 'refs', revision), 'utf8').catch(() => undefined))?.trim();
  if (!commit) {
    const all = await readdir(snapshots).catch(() => [] as string[]);
    if (all.length !== 1) return undefined;
    commit = all[0]!;
  }
  const path = join(snapshots, commit);
  const ok = await stat(path).then((s) => s.isDirectory(), () => false);
  return ok ? { path, commit } : undefined;
}
