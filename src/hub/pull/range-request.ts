/**
 * The GET of one byte range of a file: the bulk of a pull's bytes, through undici's `request` on
 * keep-alive connections. Its body is a Node stream of views into the socket's own reads: `fetch`
 * passes every chunk through WHATWG streams, and `node:http` copies each one once more; both
 * measured more CPU per byte, and a pull is CPU bound on small machines (see docs/hf.md). The
 * next range reuses the connection (no new TCP or TLS handshake). Redirects are followed, as
 * `fetch` would; undici drops the token when one leads to another origin.
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

const MAX_REDIRECTIONS = 5;
let agent: Agent | undefined;

/** An answer to a range GET; `body` must be read to its end or destroyed. */
export interface RangeAnswer {
  status: number;
  /** The URL asked for (before redirects). */
  url: string;
  /** A response header (the first, when repeated). */
  header(name: string): string | undefined;
  body: Readable;
}

/**
 * GETs `url` with `headers` (the Range among them).
 * @throws the connection's error (refused, reset, aborted through `signal`)
 */
export async function getRange(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<RangeAnswer> {
  agent ??= new Agent();
  const { statusCode, headers: received, body } = await request(url, { headers, signal, dispatcher: agent, maxRedirections: MAX_REDIRECTIONS });
  return {
    status: statusCode,
    url,
    header: (name) => {
      const value = received[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
    body,
  };
}
