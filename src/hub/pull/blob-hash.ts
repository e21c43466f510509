/**
 * What a file's bytes hash to: the sha256 (an LFS file's name on the hub and in the cache) and
 * the git blob id (`sha1("blob <size>\0" + bytes)`, the name of files kept in git itself).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';

/** The hashing thread reads this much at a time (hash-worker.ts): telling it of less is wasted. */
const ADVANCE_BYTES = 4 * 1024 * 1024;

export interface BlobHashes {
  sha256: string;
  /** Only when asked for: large files are in LFS and named by their sha256 alone. */
  gitOid?: string;
}

/** Hashes a file in one read. */
export async function hashFile(path: string, { gitOid = false }: { gitOid?: boolean } = {}): Promise<BlobHashes> {
  const { size } = await stat(path);
  const sha256 = createHash('sha256');
  const git = gitOid ? createHash('sha1').update(`blob ${size}\0`) : undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    sha256.update(chunk as Buffer);
    git?.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), ...(git ? { gitOid: git.digest('hex') } : {}) };
}

/**
 * Hashes a file that is being written in ranges, following the part of it that is complete from
 * byte 0 while the rest downloads, on a thread of its own (hashing takes about as long as
 * receiving): the check costs no pass over the file after the last byte. It reads back what was
 * just written (from the page cache).
 */
export class PrefixHasher {
  readonly #worker: Worker;
  readonly #result: Promise<BlobHashes>;
  #sent = 0;

  constructor(path: string, size: number, { gitOid = false }: { gitOid?: boolean } = {}) {
    this.#worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { path, size, gitOid } });
    this.#result = new Promise<BlobHashes>((resolve, reject) => {
      this.#worker.once('message', (m: BlobHashes | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
      this.#worker.once('error', reject);
      this.#worker.once('exit', () => reject(new Error('the hashing thread stopped')));
    });
    this.#result.catch(() => undefined);
  }

  /** Bytes [0, end) are on disk: hash up to there, in the background (told in steps of the thread's reads). */
  advance(end: number): void {
    if (end - this.#sent < ADVANCE_BYTES) return;
    this.#sent = end;
    this.#worker.postMessage({ end });
  }

  /** Hashes the rest up to `size` and gives the digests. */
  async digest(size: number): Promise<BlobHashes> {
    this.#worker.postMessage({ digest: size });
    try {
      return await this.#result;
    } finally {
      await this.#worker.terminate();
    }
  }

  /** Stops the thread (a download that failed or was stopped). */
  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
