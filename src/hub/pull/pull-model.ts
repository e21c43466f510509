/**
 * `pullModel`: a model named by its hub id (`org/name[:variant]`) into the Hugging Face cache, in
 * huggingface_hub's own layout, ready for the runtime. The files a built-in backend runs are
 * chosen (select-files), their blobs fetched several at once (pull-file, each in parallel ranges),
 * then the snapshot's symlinks and `refs/<revision>` are written: an interrupted or failed pull
 * leaves resumable `.incomplete` files and no half snapshot. Pulls of the same model in one
 * process share one download; across processes the blob locks make each file download once.
 */
import { statSync } from 'node:fs';
import { mkdir, rename, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { config as processConfig, type Config } from '../../config.js';
import { ModelManagerError } from '../../errors.js';
import { formatBytes } from '../../units.js';
import { cachedRepoPaths, COMMIT_PATTERN, type CachedRepoPaths } from '../cache.js';
import { parseHubName } from './hub-name.js';
import type { HubTarget } from './hub-request.js';
import { linkSnapshotFile, listedBlobName, pullFile, type PulledFile } from './pull-file.js';
import { listRepo } from './repo-listing.js';
import { selectFiles, type RepoFile } from './select-files.js';

/** A progress event, in the style of Ollama's pull: per file, `completed` of `total` bytes. */
export interface PullProgress {
  /**
   * `resolving`: asking the hub; `pulling`: the files are chosen, `total` is the bytes of them all
   * (no `file`); `downloading`/`waiting` (another process fetches it)/`verifying`: one file; `linking`:
   * writing the snapshot; `success`: done.
   */
  status: 'resolving' | 'pulling' | 'downloading' | 'waiting' | 'verifying' | 'linking' | 'success';
  file?: string;
  completed?: number;
  total?: number;
}

export interface PullOptions {
  /** Branch, tag or commit. Defaults to `main`. */
  revision?: string;
  /** Globs of further files to fetch. Defaults to none. */
  include?: readonly string[];
  /** Globs of files not to fetch. Defaults to none. */
  exclude?: readonly string[];
  /** List what would be fetched, fetch nothing. Defaults to false. */
  dryRun?: boolean;
  /** HF cache, endpoint, token. Defaults to the process environment. */
  config?: Config;
  /** The fetch every request goes through. Defaults to the global one. */
  fetch?: typeof fetch;
  /** Stops the pull (Ctrl-C): what is on disk stays for the next pull. */
  signal?: AbortSignal;
  onProgress?: (event: PullProgress) => void;
  /** Connections per file. Defaults to 8. */
  connections?: number;
  /** Files fetched at once. Defaults to 4. */
  parallelFiles?: number;
  /** Smallest byte range worth its own connection. Defaults to 8 MiB. */
  minSplitBytes?: number;
  /** A connection silent this long is replaced. Defaults to 30000 ms. */
  stallTimeoutMs?: number;
  /** Attempts after a failure without progress. Defaults to 5. */
  retries?: number;
  /** First backoff between attempts. Defaults to 500 ms. */
  retryBaseMs?: number;
  /** Milliseconds each request may wait for its answer. Defaults to 30000. */
  timeoutMs?: number;
}

export interface PullFileResult {
  path: string;
  size: number;
  /** Known once the file is in the cache (the hub lists it for LFS files before). */
  sha256?: string;
  /** `cached`: in the cache before; `downloaded`: fetched by this pull; `missing`: a dry run would fetch it. */
  state: 'cached' | 'downloaded' | 'missing';
}

export interface PullResult {
  repoId: string;
  /** The quantization or ONNX variant pulled. */
  variant?: string;
  format?: 'gguf' | 'onnx';
  revision: string;
  commit: string;
  /** `snapshots/<commit>` in the cache. */
  snapshot: string;
  /** What the runtime loads: the weights file in the snapshot, or the snapshot folder. */
  modelPath: string;
  files: PullFileResult[];
  totalBytes: number;
  /** Bytes this pull fetched (0 when all was cached, or on a dry run). */
  downloadedBytes: number;
  dryRun: boolean;
  /** The hub's pipeline tag and tags, for the registry entry. */
  pipelineTag?: string;
  tags: string[];
}

/** The free bytes where `path` is, or would be created. */
async function freeBytes(path: string): Promise<number> {
  for (let dir = path; ; dir = dirname(dir)) {
    const info = await statfs(dir).catch(() => undefined);
    if (info) return info.bavail * info.bsize;
    if (dirname(dir) === dir) return Infinity;
  }
}

/** Bytes already on disk towards the files still to fetch (their `.incomplete` files). */
function partialBytes(paths: CachedRepoPaths, files: RepoFile[]): number {
  return files.reduce((n, f) => {
    const etag = listedBlobName(f);
    return n + (etag === undefined ? 0 : Math.min(f.size, statSync(join(paths.blobs, `${etag}.incomplete`), { throwIfNoEntry: false })?.size ?? 0));
  }, 0);
}

function isCached(paths: CachedRepoPaths, file: RepoFile): boolean {
  const etag = listedBlobName(file);
  return etag !== undefined && statSync(join(paths.blobs, etag), { throwIfNoEntry: false })?.size === file.size;
}

/** Writes `refs/<revision>` atomically, as huggingface_hub does, so readers never see half a commit id. */
async function writeRef(paths: CachedRepoPaths, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const ref = join(paths.refs, ...revision.split('/'));
  await mkdir(dirname(ref), { recursive: true });
  const temp = `${ref}.${process.pid}.tmp`;
  await writeFile(temp, commit);
  await rename(temp, ref);
}

/** Runs `work` on every item, `limit` at a time; the first failure stops taking new items. */
async function eachLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failed = false;
  const run = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, run));
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

/** Pulls under way in this process, so concurrent pulls of one model share one download. */
const inFlight = new Map<string, { result: Promise<PullResult>; listeners: Set<(event: PullProgress) => void> }>();

/**
 * Downloads the files of `name` (`org/name[:variant]`) that a built-in backend runs into the HF cache.
 * @throws ModelManagerError INVALID_ARGUMENT, OFFLINE, UNSUPPORTED_FORMAT, DISK_FULL, CHECKSUM_MISMATCH,
 * INTERRUPTED, AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE
 */
export async function pullModel(name: string, options: PullOptions = {}): Promise<PullResult> {
  const parsed = parseHubName(name);
  if (!parsed) throw new ModelManagerError('INVALID_ARGUMENT', `"${name}" is not a hub id: write org/name, or org/name:variant (a quantization such as Q4_K_M, or an ONNX variant such as quantized)`, { details: { name } });
  const revision = options.revision ?? 'main';
  // A revision names a file under refs/: it must not climb out of it.
  if (!/^[A-Za-z0-9][\w.\-/]*$/.test(revision) || revision.split('/').some((part) => part === '' || part === '..' || part === '.')) {
    throw new ModelManagerError('INVALID_ARGUMENT', `"${revision}" is not a revision: give a branch, a tag or a commit id`, { details: { revision } });
  }
  const config = options.config ?? processConfig();
  if (config.hf.offline) {
    throw new ModelManagerError('OFFLINE', `HF_HUB_OFFLINE is set, so ${parsed.repoId} cannot be downloaded: unset it, or copy the model into the HF cache (${config.hf.hubCache})`, {
      details: { repoId: parsed.repoId, cacheDir: config.hf.hubCache },
    });
  }
  if (options.dryRun) return pull(parsed, config, options, () => undefined);
  const key = JSON.stringify([config.hf.hubCache, config.hf.endpoint, parsed, options.revision ?? 'main', options.include ?? [], options.exclude ?? []]);
  let shared = inFlight.get(key);
  if (!shared) {
    const listeners = new Set<(event: PullProgress) => void>();
    const result = pull(parsed, config, options, (event) => listeners.forEach((l) => l(event))).finally(() => inFlight.delete(key));
    shared = { result, listeners };
    inFlight.set(key, shared);
  }
  const listener = options.onProgress;
  if (listener) shared.listeners.add(listener);
  try {
    return await shared.result;
  } finally {
    if (listener) shared.listeners.delete(listener);
  }
}

async function pull({ repoId, variant }: { repoId: string; variant?: string }, config: Config, options: PullOptions, emit: (event: PullProgress) => void): Promise<PullResult> {
  const {
    revision = 'main', include = [], exclude = [], dryRun = false, connections = 8, parallelFiles = 4,
    minSplitBytes = 8 * 1024 * 1024, stallTimeoutMs = 30_000, retries = 5, retryBaseMs = 500, timeoutMs = 30_000,
  } = options;
  const target: HubTarget = {
    repoId, endpoint: config.hf.endpoint, token: config.hf.token, fetch: options.fetch ?? globalThis.fetch,
    timeoutMs, retries, retryBaseMs, ...(options.signal ? { signal: options.signal } : {}),
  };
  emit({ status: 'resolving' });
  const listing = await listRepo(repoId, { endpoint: target.endpoint, token: target.token, revision, fetch: target.fetch, timeoutMs });
  if (!COMMIT_PATTERN.test(listing.commit)) {
    throw new ModelManagerError('HUB_UNREACHABLE', `${target.endpoint} gave "${listing.commit}" as the commit of ${repoId}@${revision}, not a commit id; is HF_ENDPOINT a Hugging Face hub?`, { details: { repoId, revision } });
  }
  const selection = selectFiles(listing.files, { variant, include, exclude, repoId });
  const paths = cachedRepoPaths(config.hf.hubCache, repoId);
  const snapshot = join(paths.snapshots, listing.commit);
  const totalBytes = selection.files.reduce((n, f) => n + f.size, 0);
  const toFetch = selection.files.filter((f) => !isCached(paths, f));
  const summary = {
    repoId, ...(selection.variant ? { variant: selection.variant } : {}), ...(selection.format ? { format: selection.format } : {}),
    revision, commit: listing.commit, snapshot, modelPath: selection.weights ? join(snapshot, ...selection.weights.split('/')) : snapshot,
    totalBytes, dryRun, ...(listing.pipelineTag ? { pipelineTag: listing.pipelineTag } : {}), tags: listing.tags,
  };
  if (dryRun) {
    const files = selection.files.map((f): PullFileResult => ({ path: f.path, size: f.size, ...(f.lfs ? { sha256: f.lfs.sha256 } : {}), state: toFetch.includes(f) ? 'missing' : 'cached' }));
    return { ...summary, files, downloadedBytes: 0 };
  }
  const needed = toFetch.reduce((n, f) => n + f.size, 0) - partialBytes(paths, toFetch);
  const free = await freeBytes(config.hf.hubCache);
  if (needed > free) {
    throw new ModelManagerError('DISK_FULL', `${repoId} needs ${formatBytes(needed)} more in ${config.hf.hubCache}, which has ${formatBytes(free)} free: free some space or point HF_HUB_CACHE elsewhere`, {
      details: { repoId, neededBytes: needed, freeBytes: free, cacheDir: config.hf.hubCache },
    });
  }

  emit({ status: 'pulling', completed: 0, total: totalBytes });
  const completed = new Map<string, number>();
  const lastSent = new Map<string, number>();
  const sizes = new Map(selection.files.map((f) => [f.path, f.size]));
  const report = (file: string, bytes: number) => {
    const now = (completed.get(file) ?? 0) + bytes;
    completed.set(file, now);
    const total = sizes.get(file) ?? now;
    // At most ten events a second per file, and always the last.
    if (now >= total || Date.now() - (lastSent.get(file) ?? 0) >= 100) {
      lastSent.set(file, Date.now());
      emit({ status: 'downloading', file, completed: Math.min(now, total), total });
    }
  };
  // Large files first: they take longest, and small ones fill the gaps.
  const ordered = [...selection.files].sort((a, b) => b.size - a.size);
  const pulled = await eachLimited(ordered, parallelFiles, (file): Promise<PulledFile> => pullFile(file, {
    target, paths, commit: listing.commit, connections, minSplitBytes, stallTimeoutMs,
    onBytes: report,
    onStatus: (path, status) => emit({ status, file: path, completed: completed.get(path) ?? 0, total: sizes.get(path) ?? 0 }),
  }));
  emit({ status: 'linking' });
  for (const file of pulled) await linkSnapshotFile(paths, listing.commit, file);
  await writeRef(paths, revision, listing.commit);
  emit({ status: 'success', completed: totalBytes, total: totalBytes });
  const files = pulled.map((f): PullFileResult => ({ path: f.path, size: f.size, sha256: f.sha256, state: f.downloaded ? 'downloaded' : 'cached' })).sort((a, b) => (a.path < b.path ? -1 : 1));
  return { ...summary, files, downloadedBytes: files.filter((f) => f.state === 'downloaded').reduce((n, f) => n + f.size, 0) };
}
