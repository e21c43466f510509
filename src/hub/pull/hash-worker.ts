/**
 * The thread that hashes a file being downloaded (see PrefixHasher): hashing a large file takes
 * as long as receiving it, so it runs beside the thread that reads the connections.
 * Messages in: `{end}` (bytes [0, end) are on disk), `{digest: size}`; out: `{sha256, gitOid?}` or `{error}`.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';

const { path, size, gitOid } = workerData as { path: string; size: number; gitOid: boolean };
const READ_BYTES = 4 * 1024 * 1024;
const sha256 = createHash('sha256');
const git = gitOid ? createHash('sha1').update(`blob ${size}\0`) : undefined;
const buffer = Buffer.allocUnsafe(READ_BYTES);
const handle = await open(path, 'r');
let hashed = 0;
let target = 0;
let digestAt: number | undefined;
let running = false;

async function run(): Promise<void> {
  if (running) return;
  running = true;
  try {
    while (hashed < target) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_BYTES, target - hashed), hashed);
      if (bytesRead === 0) throw new Error(`the file ended at byte ${hashed}, before ${target}`);
      sha256.update(buffer.subarray(0, bytesRead));
      git?.update(buffer.subarray(0, bytesRead));
      hashed += bytesRead;
    }
    if (digestAt !== undefined && hashed >= digestAt) {
      await handle.close();
      parentPort?.postMessage({ sha256: sha256.digest('hex'), ...(git ? { gitOid: git.digest('hex') } : {}) });
    }
  } catch (error) {
    parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
  } finally {
    running = false;
  }
  if (hashed < target && digestAt === undefined) void run();
}

parentPort?.on('message', (message: { end?: number; digest?: number }) => {
  if (message.digest !== undefined) digestAt = message.digest;
  target = Math.max(target, message.end ?? 0, digestAt ?? 0);
  void run();
});
