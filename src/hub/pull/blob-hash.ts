/**
 * What a file's bytes hash to: the sha256 (an LFS file's name on the hub and in the cache) and
 * the git blob id (`sha1("blob <size>\0" + bytes)`, the name of files kept in git itself).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';

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

const READ_BYTES = 4 * 1024 * 1024;

/**
 * Hashes a file that is being written in ranges, following the part of it that is complete from
 * byte 0 while the rest downloads: the check costs no pass over the file after the last byte.
 * It reads back what was just written (from the page cache).
 */
export class PrefixHasher {
  readonly #sha256 = createHash('sha256');
  readonly #git: Hash | undefined;
  readonly #buffer = Buffer.allocUnsafe(READ_BYTES);
  #hashed = 0;
  #target = 0;
  #running: Promise<void> | undefined;

  constructor(
    private readonly handle: FileHandle,
    size: number,
    { gitOid = false }: { gitOid?: boolean } = {},
  ) {
    this.#git = gitOid ? createHash('sha1').update(`blob ${size}\0`) : undefined;
  }

  /** Bytes [0, end) are on disk: hash up to there, in the background. */
  advance(end: number): void {
    this.#target = Math.max(this.#target, end);
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    this.#running.catch(() => undefined);
  }

  async #run(): Promise<void> {
    while (this.#hashed < this.#target) {
      const { bytesRead } = await this.handle.read(this.#buffer, 0, Math.min(READ_BYTES, this.#target - this.#hashed), this.#hashed);
      if (bytesRead === 0) throw new Error(`the file ended at byte ${this.#hashed}, before ${this.#target}`);
      const bytes = this.#buffer.subarray(0, bytesRead);
      this.#sha256.update(bytes);
      this.#git?.update(bytes);
      this.#hashed += bytesRead;
    }
  }

  /** Hashes the rest up to `size` and gives the digests. */
  async digest(size: number): Promise<BlobHashes> {
    await this.#running;
    this.advance(size);
    await this.#running;
    return { sha256: this.#sha256.digest('hex'), ...(this.#git ? { gitOid: this.#git.digest('hex') } : {}) };
  }

  /** Waits for a read under way (before the file is closed). */
  async settle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }
}
