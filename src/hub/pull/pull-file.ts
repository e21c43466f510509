/**
 * One file of a commit into the cache, as huggingface_hub's `hf_hub_download` leaves it: the bytes
 * in `blobs/<etag>` (fetched into `blobs/<etag>.incomplete` under the blob's lock, checked against
 * their hash, then renamed), and `snapshots/<commit>/<path>` a relative symlink to the blob
 * (`linkSnapshotFile`, once every blob of the pull is in place: a snapshot never points at a blob
 * that is missing or failed its check, and an interrupted pull leaves no half snapshot).
 */
import { statSync } from 'node:fs';
import { mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { ModelManagerError } from '../../errors.js';
import { snapshotFilePath, type CachedRepoPaths } from '../cache.js';
import { hashFile } from './blob-hash.js';
import { withBlobLock } from './blob-lock.js';
import { authHeaders, locateFile } from './file-location.js';
import type { HubTarget } from './hub-request.js';
import { downloadRanges } from './ranged-download.js';
import { removeRangeRecord } from './range-record.js';
import type { RepoFile } from './select-files.js';

export interface PulledFile {
  /** Path in the repo. */
  path: string;
  size: number;
  sha256: string;
  /** The blob in the cache. */
  blob: string;
  /** False when the blob was in the cache already (or another process fetched it meanwhile). */
  downloaded: boolean;
}

export interface PullFileContext {
  target: HubTarget;
  paths: CachedRepoPaths;
  commit: string;
  connections: number;
  minSplitBytes: number;
  stallTimeoutMs: number;
  /** Bytes of this file now on disk (resumed ones included), as they come. */
  onBytes(file: string, bytes: number): void;
  onStatus(file: string, status: 'waiting' | 'verifying'): void;
}

const SHA256 = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;

/** The blob name the listing gives a file (its sha256 for LFS files, else its git blob id), when it is one. */
export function listedBlobName(file: RepoFile): string | undefined {
  const name = file.lfs?.sha256 ?? file.oid;
  return name !== undefined && (SHA256.test(name) || GIT_OID.test(name)) ? name : undefined;
}

function blobSize(path: string): number | undefined {
  const info = statSync(path, { throwIfNoEntry: false });
  return info?.isFile() ? info.size : undefined;
}

/** Points `snapshots/<commit>/<path>` at its blob with a relative symlink (the cache can move), replacing what was there. */
export async function linkSnapshotFile(paths: CachedRepoPaths, commit: string, file: PulledFile): Promise<void> {
  const pointer = snapshotFilePath(join(paths.snapshots, commit), file.path);
  const blob = file.blob;
  const target = relative(dirname(pointer), blob);
  if ((await readlink(pointer).catch(() => undefined)) === target) return;
  await mkdir(dirname(pointer), { recursive: true });
  await rm(pointer, { force: true });
  try {
    await symlink(target, pointer);
  } catch (error) {
    // Another pull linked it between the rm and the symlink: fine when it is the same blob.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || resolve(dirname(pointer), (await readlink(pointer).catch(() => ''))) !== resolve(blob)) throw error;
  }
}

/** The sha256 of a blob already in the cache: its name, for LFS files; else read. */
async function sha256Of(blob: string, etag: string, file: RepoFile): Promise<string> {
  return file.lfs?.sha256 === etag || (file.lfs === undefined && SHA256.test(etag)) ? etag : (await hashFile(blob)).sha256;
}

/** Fetches into `incomplete`, checks the hash the hub gave, and moves the bytes to `blob`. */
async function download(file: RepoFile, etag: string, location: { url: string; sendToken: boolean; size: number }, blob: string, ctx: PullFileContext): Promise<string> {
  const incomplete = `${blob}.incomplete`;
  const recordFile = join(ctx.paths.locks, `${etag}.ranges.json`);
  const expectedSha256 = file.lfs?.sha256 ?? (SHA256.test(etag) ? etag : undefined);
  const expectedOid = file.lfs === undefined ? (file.oid ?? (GIT_OID.test(etag) ? etag : undefined)) : undefined;
  await mkdir(dirname(blob), { recursive: true });
  // The bytes are hashed as they arrive; the check below needs no second pass over the file.
  const hashes = await downloadRanges({
    target: ctx.target,
    url: location.url,
    headers: authHeaders(ctx.target, location.sendToken),
    size: location.size,
    file: incomplete,
    recordFile,
    connections: ctx.connections,
    minSplitBytes: ctx.minSplitBytes,
    stallTimeoutMs: ctx.stallTimeoutMs,
    gitOid: expectedOid !== undefined,
    onBytes: (bytes) => ctx.onBytes(file.path, bytes),
  });
  ctx.onStatus(file.path, 'verifying');
  const bad = expectedSha256 !== undefined && hashes.sha256 !== expectedSha256 ? { expected: expectedSha256, actual: hashes.sha256, hash: 'sha256' }
    : expectedOid !== undefined && hashes.gitOid !== expectedOid ? { expected: expectedOid, actual: hashes.gitOid, hash: 'git blob id' } : undefined;
  if (bad) {
    // Bad bytes are never kept: the next pull starts this file afresh.
    await rm(incomplete, { force: true });
    await removeRangeRecord(recordFile);
    throw new ModelManagerError('CHECKSUM_MISMATCH', `${ctx.target.repoId}/${file.path}: the downloaded bytes have ${bad.hash} ${bad.actual}, not the ${bad.expected} the hub lists; they were deleted. Pull again; if it repeats, the hub or a proxy serves a corrupt file`, {
      details: { repoId: ctx.target.repoId, file: file.path, ...bad },
    });
  }
  await rename(incomplete, blob);
  await removeRangeRecord(recordFile);
  return hashes.sha256;
}

/**
 * Puts one file's blob into the cache, fetching it only when its blob is not there yet.
 * @throws ModelManagerError CHECKSUM_MISMATCH, INTERRUPTED, DISK_FULL, AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE
 */
export async function pullFile(file: RepoFile, ctx: PullFileContext): Promise<PulledFile> {
  // A name that would leave the snapshot folder is refused before any byte is fetched.
  snapshotFilePath(join(ctx.paths.snapshots, ctx.commit), file.path);
  // The listing names the blob already (the sha256 of LFS files, the git blob id of others): a
  // file in the cache needs no request at all.
  const listed = listedBlobName(file);
  if (listed !== undefined && blobSize(join(ctx.paths.blobs, listed)) === file.size) {
    const blob = join(ctx.paths.blobs, listed);
    ctx.onBytes(file.path, file.size);
    return { path: file.path, size: file.size, sha256: await sha256Of(blob, listed, file), blob, downloaded: false };
  }
  const location = await locateFile(ctx.target, ctx.commit, file.path);
  const blob = join(ctx.paths.blobs, location.etag);
  const isDone = () => blobSize(blob) === location.size;
  const sha256 = await withBlobLock(ctx.paths.locks, location.etag, { signal: ctx.target.signal, isDone, onWait: () => ctx.onStatus(file.path, 'waiting') }, () => download(file, location.etag, location, blob, ctx));
  if (sha256 === undefined) ctx.onBytes(file.path, location.size);
  return { path: file.path, size: location.size, sha256: sha256 ?? (await sha256Of(blob, location.etag, file)), blob, downloaded: sha256 !== undefined };
}
