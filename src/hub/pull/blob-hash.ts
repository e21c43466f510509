/**
 * What a file's bytes hash to: the sha256 (an LFS file's name on the hub and in the cache) and
 * the git blob id (`sha1("blob <size>\0" + bytes)`, the name of files kept in git itself).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

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
