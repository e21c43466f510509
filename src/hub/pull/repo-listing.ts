/**
 * What a repo holds at a revision, as huggingface_hub's `snapshot_download` asks it: the commit
 * the revision points at (model info), then every file of that commit with its size, git blob id
 * and LFS sha256 (the recursive tree listing).
 */
import { listFiles, modelInfo } from '@huggingface/hub';
import { hubError, hubFetch } from '../hub-client.js';
import type { RepoFile } from './select-files.js';

export interface RepoListing {
  commit: string;
  files: RepoFile[];
  /** The hub's `pipeline_tag` and tags, for the registry entry. */
  pipelineTag?: string;
  tags: string[];
}

export interface ListingOptions {
  endpoint: string;
  token?: string;
  revision: string;
  fetch: typeof fetch;
  /** Milliseconds each request may take. */
  timeoutMs: number;
}

/** @throws ModelManagerError AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE */
export async function listRepo(repoId: string, { endpoint, token, revision, fetch, timeoutMs }: ListingOptions): Promise<RepoListing> {
  const fetchFn = hubFetch(fetch, token, timeoutMs);
  try {
    const info = await modelInfo({ name: repoId, hubUrl: endpoint, revision, fetch: fetchFn, additionalFields: ['sha', 'tags'] });
    const commit = info.sha ?? revision;
    const files: RepoFile[] = [];
    for await (const entry of listFiles({ repo: { type: 'model', name: repoId }, hubUrl: endpoint, revision: commit, recursive: true, fetch: fetchFn })) {
      if (entry.type !== 'file') continue;
      files.push({
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        ...(entry.oid === undefined ? {} : { oid: entry.oid }),
        ...(entry.lfs ? { lfs: { sha256: entry.lfs.oid, size: entry.lfs.size } } : {}),
      });
    }
    return { commit, files, ...(info.task === undefined ? {} : { pipelineTag: info.task }), tags: info.tags ?? [] };
  } catch (error) {
    throw hubError(error, repoId, endpoint, token !== undefined);
  }
}
