/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, in the hub's URL layout and with its headers:
 * /api/models/{id}[/revision/{rev}] (info with `sha` and `siblings`), /api/models/{id}/tree/{rev}
 * (the recursive file listing with git blob ids and LFS sha256s), and /{id}/resolve|raw/{rev}/{file}
 * answering GET and HEAD with `X-Repo-Commit`, `ETag` (the git blob id) for files kept in git, and
 * for LFS files a 302 to a second listener standing for the storage CDN (another origin, so the
 * token must not follow) carrying `X-Linked-Etag` (the sha256) and `X-Linked-Size`. Range requests
 * get 206 + Content-Range. Gated repos answer 401 without the token; missing files 404 +
 * X-Error-Code: EntryNotFound.
 *
 * Faults on demand (`hub.faults`): a status for the next requests of a file, a connection dropped
 * after some bytes, wrong bytes, a transfer that stalls, and a per-connection rate cap (`hub.rate`).
 * Every request is recorded with its Range and the body bytes sent.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileHashes, fileSize, isLfs, writeBody, type HubFile } from './hub-content.js';

export type { HubFile } from './hub-content.js';

export interface HubRepo {
  id: string;
  sha: string;
  files: Record<string, HubFile>;
  pipelineTag?: string;
  tags?: string[];
  /** Resolving files needs `Authorization: Bearer <token>`. */
  gated?: boolean;
  /** Kept for older tests: LFS files are always redirected to storage, as on the hub. */
  redirectWeights?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  /** Last byte index sent in the body (inclusive), -1 when none. */
  lastByte: number;
  /** Body bytes actually written. */
  bytesSent: number;
  /** When the request came and when its answer ended (ms since the epoch). */
  at: number;
  doneAt?: number;
}

/** A fault for the next `times` requests (GET or HEAD) of files whose path matches. */
export interface Fault {
  /** Matched against the file's path in the repo. */
  file: string | RegExp;
  /** Only GETs of bytes (not HEAD): drop, corrupt and stall act on bodies. */
  kind: { status: number; retryAfter?: string } | { dropAfter: number } | { corrupt: true } | { stallAfter: number } | { linkedEtag: string };
  /** How many requests it hits. Defaults to 1. */
  times?: number;
  /** Only GETs whose range starts at or after this byte. */
  fromByte?: number;
}

export interface HubServer {
  url: string;
  /** The storage origin LFS downloads are redirected to. */
  cdnUrl: string;
  requests: RecordedRequest[];
  faults: Fault[];
  /** Bytes per second each connection may send (undefined: no cap). */
  rate: number | undefined;
  /** Emits `bytes` (file path, bytes) as body bytes go out. */
  events: EventEmitter;
  /** Body bytes sent per file path so far. */
  sentBytes(file: string): number;
  /** Resolves once `bytes` body bytes of `file` have been sent. */
  waitForBytes(file: string, bytes: number): Promise<void>;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function treeEntry(path: string, file: HubFile) {
  const size = fileSize(file);
  const { sha256, gitOid } = fileHashes(file);
  return isLfs(file)
    ? { type: 'file', path, size, oid: gitOid, lfs: { oid: sha256, size, pointerSize: 134 } }
    : { type: 'file', path, size, oid: gitOid };
}

function matches(fault: Fault, file: string, method: string, rangeStart: number): boolean {
  if ((fault.times ?? 1) <= 0) return false;
  if (typeof fault.file === 'string' ? fault.file !== file : !fault.file.test(file)) return false;
  if ('status' in fault.kind || 'linkedEtag' in fault.kind) return true;
  return method === 'GET' && rangeStart >= (fault.fromByte ?? 0);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startHubServer(repos: HubRepo[], { token = 'hf_test_token' } = {}): Promise<HubServer> {
  const byId = new Map(repos.map((r) => [r.id, r]));
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const events = new EventEmitter();
  const sent = new Map<string, number>();
  const hub = { rate: undefined as number | undefined };
  let cdnUrl = '';

  const handle = async (req: IncomingMessage, res: ServerResponse, record: RecordedRequest, cdn: boolean): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const tree = /^\/api\/models\/(.+?)\/tree\/([^/]+)$/.exec(path);
    const api = tree ? null : /^\/api\/models\/(.+?)(?:\/revision\/([^/]+))?$/.exec(path);
    if (!cdn && (tree || api)) {
      const repo = byId.get((tree ?? api)![1]!);
      if (!repo) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      const revision = (tree ?? api)![2];
      if (revision !== undefined && revision !== 'main' && revision !== repo.sha) return json(res, 404, { error: 'Revision not found' }, { 'x-error-code': 'RevisionNotFound' });
      if (tree) return json(res, 200, Object.entries(repo.files).map(([p, f]) => treeEntry(p, f)));
      return json(res, 200, {
        _id: `id-${repo.id}`, id: repo.id, sha: repo.sha, private: false, gated: repo.gated ? 'manual' : false, downloads: 0, likes: 0,
        lastModified: '2024-07-23T00:00:00.000Z', pipeline_tag: repo.pipelineTag, tags: repo.tags ?? [],
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    const storage = cdn ? /^\/lfs\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(path) : null;
    const file = storage ? ['', storage[1]!, 'lfs', storage[2]!, storage[3]!] : cdn ? null : /^\/(.+?)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(path);
    const repo = file && byId.get(file[1]!);
    if (!file || !repo) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if (repo.gated && !storage && req.headers.authorization !== `Bearer ${token}`) {
      return json(res, 401, { error: `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.` }, { 'x-error-code': 'GatedRepo' });
    }
    const commit = { 'x-repo-commit': repo.sha };
    if (file[3] !== repo.sha && file[3] !== 'main') return json(res, 404, { error: 'Revision not found' }, { 'x-error-code': 'RevisionNotFound', ...commit });
    const name = file[4]!;
    const content = repo.files[name];
    if (content === undefined) return json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound', ...commit });
    const size = fileSize(content);
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const fault = faults.find((f) => matches(f, name, req.method ?? 'GET', start));
    if (fault) fault.times = (fault.times ?? 1) - 1;
    if (fault && 'status' in fault.kind) {
      return json(res, fault.kind.status, { error: `fault ${fault.kind.status}` }, fault.kind.retryAfter === undefined ? {} : { 'retry-after': fault.kind.retryAfter });
    }
    if (isLfs(content) && file[2] === 'resolve') {
      const { sha256 } = fileHashes(content);
      const linked = fault && 'linkedEtag' in fault.kind ? fault.kind.linkedEtag : sha256;
      res.writeHead(302, { location: `${cdnUrl}/lfs/${repo.id}/${repo.sha}/${name}`, 'x-linked-size': String(size), 'x-linked-etag': `"${linked}"`, etag: `"${fileHashes(content).gitOid}"`, ...commit });
      res.end();
      return;
    }
    const etag = isLfs(content) ? fileHashes(content).sha256 : fileHashes(content).gitOid;
    const headers: Record<string, string> = { etag: `"${etag}"`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream', ...(storage ? {} : commit) };
    let end = size - 1;
    if (range) {
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end) return json(res, 416, { error: 'Range Not Satisfiable' }, { 'content-range': `bytes */${size}` });
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(req.method === 'HEAD' ? size : end + 1 - start) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    record.lastByte = end;
    const kind = fault?.kind;
    await writeBody(res, content, start, end, {
      ...(hub.rate === undefined ? {} : { bytesPerSecond: hub.rate }),
      ...(kind && 'dropAfter' in kind ? { dropAfter: kind.dropAfter } : {}),
      ...(kind && 'stallAfter' in kind ? { stallAfter: kind.stallAfter } : {}),
      ...(kind && 'corrupt' in kind ? { corrupt: true } : {}),
      onBytes: (n) => {
        record.bytesSent += n;
        sent.set(name, (sent.get(name) ?? 0) + n);
        events.emit('bytes', name, n);
      },
    });
  };

  const makeServer = (cdn: boolean) => createServer((req, res) => {
    const record: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', lastByte: -1, bytesSent: 0, at: Date.now() };
    res.once('close', () => (record.doneAt = Date.now()));
    if (req.headers.range) record.range = req.headers.range;
    if (req.headers.authorization) record.authorization = req.headers.authorization;
    requests.push(record);
    handle(req, res, record, cdn).catch(() => res.destroy());
  });
  const main = makeServer(false);
  const storage = makeServer(true);
  const port = await listen(main);
  cdnUrl = `http://127.0.0.1:${await listen(storage)}`;
  const close = (server: Server) => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cdnUrl,
    requests,
    faults,
    get rate() {
      return hub.rate;
    },
    set rate(value) {
      hub.rate = value;
    },
    events,
    sentBytes: (name) => sent.get(name) ?? 0,
    waitForBytes: (name, bytes) => new Promise((resolve) => {
      const check = () => {
        if ((sent.get(name) ?? 0) < bytes) return;
        events.off('bytes', check);
        resolve();
      };
      events.on('bytes', check);
      check();
    }),
    close: async () => {
      await Promise.all([close(main), close(storage)]);
    },
  };
}
