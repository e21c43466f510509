/**
 * The Hugging Face cache layout, as huggingface_hub writes it:
 * `<cache>/models--org--name/{refs/<branch>, snapshots/<commit>/<files>, blobs/<etag>}`, with
 * per-blob locks under `<cache>/.locks/models--org--name/`. Snapshot files are relative symlinks
 * into `blobs/`; reading through them needs nothing special.
 *
 * Which snapshot a revision names is decided here only: the import, the runtime and discovery
 * all read a cached repo through `snapshotOfRepoFolder`, so they never pick different files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { ModelManagerError } from '../errors.js';

/** A full commit id, as snapshot folders are named. */
export const COMMIT_PATTERN = /^[0-9a-f]{40}$/;

/** `org/name` -> `models--org--name`. */
export function cacheFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** `models--org--name` -> `org/name`. */
export function repoIdOfCacheFolder(folder: string): string {
  return folder.replace(/^models--/, '').split('--').join('/');
}

/** The folders and files of one repo in the cache. */
export interface CachedRepoPaths {
  /** `<cache>/models--org--name`. */
  repo: string;
  blobs: string;
  snapshots: string;
  refs: string;
  /** `<cache>/.locks/models--org--name`: per-blob locks. */
  locks: string;
}

/** Where a repo lives in the cache at `cacheDir`. */
export function cachedRepoPaths(cacheDir: string, repoId: string): CachedRepoPaths {
  const folder = cacheFolderName(repoId);
  const repo = join(cacheDir, folder);
  return { repo, blobs: join(repo, 'blobs'), snapshots: join(repo, 'snapshots'), refs: join(repo, 'refs'), locks: join(cacheDir, '.locks', folder) };
}

/**
 * The path of a repo file inside a snapshot, refusing names that would leave it (`../`, absolute
 * paths): a file list comes from the network.
 * @throws ModelManagerError INVALID_ARGUMENT
 */
export function snapshotFilePath(snapshot: string, file: string): string {
  const path = resolve(snapshot, ...file.split('/'));
  if (file.includes('\\') || !path.startsWith(snapshot + sep) || relative(snapshot, path).split(sep).includes('..')) {
    throw new ModelManagerError('INVALID_ARGUMENT', `the repo lists a file named "${file}", which would land outside its snapshot folder; refused`, { details: { file } });
  }
  return path;
}

export interface CachedSnapshot {
  /** The snapshot folder. */
  path: string;
  commit: string;
}

export interface SnapshotLookup {
  /** Branch, tag or commit. Defaults to `main`. */
  revision?: string;
  /**
   * The repo's snapshot folders by name, when the caller has listed them already (discovery lists
   * through its exclusion rules). Defaults to reading `snapshots/`.
   */
  snapshots?: ReadonlyMap<string, string>;
}

function listSnapshots(repoDir: string): Map<string, string> {
  const dir = join(repoDir, 'snapshots');
  try {
    return new Map(readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => [e.name, join(dir, e.name)]));
  } catch {
    return new Map();
  }
}

function readRef(repoDir: string, revision: string): string | undefined {
  // A ref name comes from the user: it must name a file under refs/, not climb out of it.
  if (revision.split('/').some((part) => part === '..' || part === '')) return undefined;
  try {
    return readFileSync(join(repoDir, 'refs', ...revision.split('/')), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The snapshot of a cached repo folder that a revision names: a commit names its own snapshot;
 * a branch or tag the one its `refs/` file holds. For `main` without a usable ref (a cache copied
 * without `refs/`, or a ref to a snapshot since deleted) the newest snapshot stands in. Synchronous,
 * so discovery's folder walk can call it; it reads one ref file and stats the snapshot folders.
 */
export function snapshotOfRepoFolder(repoDir: string, { revision = 'main', snapshots }: SnapshotLookup = {}): CachedSnapshot | undefined {
  const listed = snapshots ?? listSnapshots(repoDir);
  const named = COMMIT_PATTERN.test(revision) ? revision : readRef(repoDir, revision);
  const path = named === undefined ? undefined : listed.get(named);
  if (named !== undefined && path !== undefined) return { path, commit: named };
  if (revision !== 'main') return undefined;
  let newest: (CachedSnapshot & { mtime: number }) | undefined;
  for (const [commit, snapshot] of listed) {
    const mtime = statSync(snapshot, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (!newest || mtime > newest.mtime) newest = { path: snapshot, commit, mtime };
  }
  return newest && { path: newest.path, commit: newest.commit };
}

/** The snapshot of `repoId` at a revision in the cache at `cacheDir` (see `snapshotOfRepoFolder`), or undefined when the cache lacks it. */
export function findCachedSnapshot(repoId: string, { cacheDir, revision = 'main' }: { cacheDir: string; revision?: string }): CachedSnapshot | undefined {
  return snapshotOfRepoFolder(join(cacheDir, cacheFolderName(repoId)), { revision });
}
