/**
 * The files the hub stand-in serves: their bytes (text, a buffer, a safetensors header over zeros,
 * or a random block repeated to any size), their hashes as the hub names them (git blob id,
 * LFS sha256), and a body writer with the faults tests ask for.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A file of a repo: text/bytes (kept in git), a safetensors header over zeros, or `block` repeated to `size` bytes (both in LFS). */
export type HubFile = string | Buffer | { header: Buffer; size: number } | { block: Buffer; size: number };

/** Text files are kept in git; everything else is an LFS file, as the hub's `.gitattributes` puts binaries in LFS. */
export function isLfs(file: HubFile): boolean {
  return typeof file !== 'string';
}

export function fileSize(file: HubFile): number {
  return typeof file === 'string' ? Buffer.byteLength(file) : Buffer.isBuffer(file) ? file.length : file.size;
}

/** Bytes [start, end) of a file. */
export function fileBytes(file: HubFile, start: number, end: number): Buffer {
  if (typeof file === 'string') return Buffer.from(file).subarray(start, end);
  if (Buffer.isBuffer(file)) return file.subarray(start, end);
  const out = Buffer.alloc(end - start);
  if ('header' in file) {
    if (start < file.header.length) file.header.copy(out, 0, start, Math.min(end, file.header.length));
    return out;
  }
  const { block } = file;
  // Within one block, a view: serving is then no copy at all.
  if (Math.floor(start / block.length) === Math.floor((end - 1) / block.length)) return block.subarray(start % block.length, start % block.length + (end - start));
  for (let at = start; at < end;) {
    const offset = at % block.length;
    const n = Math.min(block.length - offset, end - at);
    block.copy(out, at - start, offset, offset + n);
    at += n;
  }
  return out;
}

const hashes = new WeakMap<object, { sha256: string; gitOid: string }>();

/** The sha256 and git blob id of a file (computed once per file object). */
export function fileHashes(file: HubFile): { sha256: string; gitOid: string } {
  const key = typeof file === 'string' ? undefined : file;
  const known = key && hashes.get(key);
  if (known) return known;
  const size = fileSize(file);
  // Files declared larger than anything a test downloads (a header over petabytes of zeros) get a
  // hash of their header and size: listed and refused, never fetched whole.
  if (typeof file !== 'string' && 'header' in file && size > 2 ** 32) {
    const digest = (algo: string) => createHash(algo).update(file.header).update(String(size)).digest('hex');
    return { sha256: digest('sha256'), gitOid: digest('sha1') };
  }
  const sha256 = createHash('sha256');
  const git = createHash('sha1').update(`blob ${size}\0`);
  const step = 16 * 1024 * 1024;
  for (let at = 0; at < size; at += step) {
    const chunk = fileBytes(file, at, Math.min(size, at + step));
    sha256.update(chunk);
    git.update(chunk);
  }
  const result = { sha256: sha256.digest('hex'), gitOid: git.digest('hex') };
  if (key) hashes.set(key, result);
  return result;
}

export interface BodyOptions {
  /** Bytes per second on this connection; undefined for no cap. */
  bytesPerSecond?: number;
  /** Close the connection after this many bytes of the body. */
  dropAfter?: number;
  /** Stop sending after this many bytes and keep the connection open (a stalled transfer). */
  stallAfter?: number;
  /** Send other bytes than the file's. */
  corrupt?: boolean;
  /** Called with each piece written. */
  onBytes(bytes: number): void;
}

const PIECE = 256 * 1024;

/** Writes bytes [start, end] of a file as a response body, honouring back-pressure, the rate cap and the faults. */
export async function writeBody(res: ServerResponse, file: HubFile, start: number, end: number, options: BodyOptions): Promise<void> {
  const { bytesPerSecond, dropAfter, stallAfter, corrupt, onBytes } = options;
  const began = Date.now();
  let sent = 0;
  for (let at = start; at <= end && !res.destroyed;) {
    let n = Math.min(PIECE, end + 1 - at);
    if (dropAfter !== undefined) n = Math.min(n, dropAfter - sent);
    if (stallAfter !== undefined) n = Math.min(n, stallAfter - sent);
    if (n <= 0) {
      if (dropAfter !== undefined && sent >= dropAfter) res.socket?.destroy();
      // A stall: nothing more is sent; the client gives up and closes the connection.
      return;
    }
    let piece = fileBytes(file, at, at + n);
    if (corrupt) {
      piece = Buffer.from(piece);
      piece[0] = piece[0]! ^ 0xff;
    }
    if (!res.write(piece)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    at += n;
    sent += n;
    onBytes(n);
    if (bytesPerSecond !== undefined) {
      const ahead = (sent / bytesPerSecond) * 1000 - (Date.now() - began);
      if (ahead > 1) await new Promise((resolve) => setTimeout(resolve, ahead));
    }
  }
  res.end();
}
