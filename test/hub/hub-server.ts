/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, serving recorded responses in the hub's URL
 * layout: /api/models/{id}[/revision/{rev}], /{id}/resolve/{rev}/{file} and /{id}/raw/{rev}/{file},
 * with HEAD, Range requests (206 + Content-Range), ETags, gated repos (401 without the token) and
 * 404 + X-Error-Code: EntryNotFound for missing files. Weights are served as a header followed by
 * zeros the size of the declared data, and every byte range asked for is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A file of a repo: text/bytes, or a safetensors file given by its header and total size. */
export type HubFile = string | Buffer | { header: Buffer; size: number };

export interface HubRepo {
  id: string;
  sha: string;
  files: Record<string, HubFile>;
  pipelineTag?: string;
  tags?: string[];
  /** Resolving files needs `Authorization: Bearer <token>`. */
  gated?: boolean;
  /** Answer `resolve` of weight files with a 302 to a storage URL, as the hub does for LFS files. */
  redirectWeights?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  /** Last byte index sent in the body (inclusive), -1 when none. */
  lastByte: number;
}

export interface HubServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function fileSize(file: HubFile): number {
  return typeof file === 'string' ? Buffer.byteLength(file) : Buffer.isBuffer(file) ? file.length : file.size;
}

function fileBytes(file: HubFile, start: number, end: number): Buffer {
  if (typeof file === 'string') return Buffer.from(file).subarray(start, end + 1);
  if (Buffer.isBuffer(file)) return file.subarray(start, end + 1);
  const out = Buffer.alloc(end + 1 - start);
  file.header.subarray(start, end + 1).copy(out);
  return out;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startHubServer(repos: HubRepo[], { token = 'hf_test_token' } = {}): Promise<HubServer> {
  const byId = new Map(repos.map((r) => [r.id, r]));
  const requests: RecordedRequest[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const api = /^\/api\/models\/(.+?)(?:\/revision\/[^/]+)?$/.exec(path);
    if (api) {
      const repo = byId.get(api[1]!);
      if (!repo) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      return json(res, 200, {
        _id: `id-${repo.id}`, id: repo.id, sha: repo.sha, private: false, gated: repo.gated ? 'manual' : false, downloads: 0, likes: 0,
        lastModified: '2024-07-23T00:00:00.000Z', pipeline_tag: repo.pipelineTag, tags: repo.tags ?? [],
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    const storage = /^\/lfs\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(path);
    const file = storage ? ['', storage[1]!, 'lfs', storage[2]!, storage[3]!] : /^\/(.+?)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(path);
    const repo = file && byId.get(file[1]!);
    if (!file || !repo) return json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if (repo.gated && !storage && req.headers.authorization !== `Bearer ${token}`) {
      return json(res, 401, { error: `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.` }, { 'x-error-code': 'GatedRepo' });
    }
    if (file[3] !== repo.sha && file[3] !== 'main') return json(res, 404, { error: 'Revision not found' }, { 'x-error-code': 'RevisionNotFound' });
    const content = repo.files[file[4]!];
    if (content === undefined) return json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    const size = fileSize(content);
    if (repo.redirectWeights && file[2] === 'resolve' && file[4]!.endsWith('.safetensors')) {
      res.writeHead(302, { location: `/lfs/${repo.id}/${repo.sha}/${file[4]}`, 'x-linked-size': String(size), 'x-linked-etag': `"${repo.sha}-${file[4]}"` });
      res.end();
      return;
    }
    const headers = { etag: `"${repo.sha}-${file[4]}"`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      status = 206;
      Object.assign(headers, { 'content-range': `bytes ${start}-${end}/${size}` });
    }
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : fileBytes(content, start, end);
    record.lastByte = req.method === 'HEAD' ? -1 : end;
    res.writeHead(status, { ...headers, 'content-length': String(req.method === 'HEAD' ? size : body.length) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const record: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', lastByte: -1 };
    if (req.headers.range) record.range = req.headers.range;
    if (req.headers.authorization) record.authorization = req.headers.authorization;
    requests.push(record);
    handle(req, res, record);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
