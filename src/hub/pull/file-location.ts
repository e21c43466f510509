/**
 * Where one file of a commit is downloaded from and what it is, read from the hub's answer to a
 * HEAD of its `resolve` URL the way huggingface_hub's `get_hf_file_metadata` reads it:
 * `X-Repo-Commit`, `X-Linked-Etag` (an LFS file's sha256) before `ETag` (a git blob id),
 * `X-Linked-Size` before `Content-Length`, and the redirect of LFS files to storage elsewhere.
 * Redirects within the hub (a renamed repo) are followed with the token; the token is never sent
 * to another host.
 */
import { ModelManagerError } from '../../errors.js';
import { requestWithRetries, statusError, type HubTarget } from './hub-request.js';

export interface FileLocation {
  /** The URL the bytes are fetched from (storage, for LFS files). */
  url: string;
  /** Whether the token goes with requests to `url` (same host as the hub). */
  sendToken: boolean;
  /** The blob name: the ETag as huggingface_hub normalises it. */
  etag: string;
  size: number;
  /** The commit the hub resolved the revision to, when it said. */
  commit?: string;
}

const MAX_REDIRECTS = 5;

/** `W/"abc"` and `"abc"` -> `abc`, as huggingface_hub's `_normalize_etag`. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (etag === null) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/** The `resolve` URL of a file at a commit. */
export function resolveUrl(target: HubTarget, commit: string, path: string): string {
  return `${target.endpoint}/${target.repoId}/resolve/${encodeURIComponent(commit)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

export function authHeaders(target: HubTarget, sendToken: boolean): Record<string, string> {
  return target.token && sendToken ? { authorization: `Bearer ${target.token}` } : {};
}

/** @throws ModelManagerError AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE (no ETag or size: not a hub) */
export async function locateFile(target: HubTarget, commit: string, path: string): Promise<FileLocation> {
  const origin = new URL(target.endpoint).origin;
  let url = resolveUrl(target, commit, path);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const sendToken = new URL(url).origin === origin;
    const response = await requestWithRetries(target, url, { method: 'HEAD', redirect: 'manual', headers: { 'accept-encoding': 'identity', ...authHeaders(target, sendToken) } });
    const headers = response.headers;
    const location = headers.get('location');
    const linkedEtag = normalizeEtag(headers.get('x-linked-etag'));
    const isRedirect = response.status >= 300 && response.status < 400 && location !== null;
    if (!isRedirect && !response.ok) throw statusError(target, response);
    const commitHeader = headers.get('x-repo-commit') ?? undefined;
    // An LFS file: the hub answers for it and points at storage; that answer is the metadata.
    if (isRedirect && linkedEtag === undefined) {
      url = new URL(location, url).href;
      continue;
    }
    const etag = linkedEtag ?? normalizeEtag(headers.get('etag'));
    const size = Number(headers.get('x-linked-size') ?? (isRedirect ? NaN : headers.get('content-length')));
    // The ETag becomes a file name in blobs/: nothing a server sends may make it a path.
    if (etag !== undefined && (!/^[\w.-]+$/.test(etag) || etag === '.' || etag === '..')) {
      throw new ModelManagerError('HUB_UNREACHABLE', `${target.endpoint} gave ${target.repoId}/${path} the ETag "${etag}", which cannot name a blob; is HF_ENDPOINT a Hugging Face hub?`, {
        details: { repoId: target.repoId, path, etag },
      });
    }
    if (etag === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw new ModelManagerError('HUB_UNREACHABLE', `${target.endpoint} answered for ${target.repoId}/${path} without ${etag === undefined ? 'an ETag' : 'a size'}; is HF_ENDPOINT a Hugging Face hub?`, {
        details: { repoId: target.repoId, path, url },
      });
    }
    const fileUrl = isRedirect ? new URL(location, url).href : url;
    return { url: fileUrl, sendToken: new URL(fileUrl).origin === origin, etag, size, ...(commitHeader ? { commit: commitHeader } : {}) };
  }
  throw new ModelManagerError('HUB_UNREACHABLE', `${target.endpoint} redirected ${target.repoId}/${path} more than ${MAX_REDIRECTS} times`, { details: { repoId: target.repoId, path } });
}
