/**
 * GGUF models split in shards (`name-00001-of-00003.gguf`): the set a file belongs to, and the
 * whole set read through its headers.
 */
import { ModelManagerError } from '../errors.js';
import { readGgufHeaderSync, type GgufHeader, type GgufLimits } from './gguf.js';

export interface GgufModel {
  /** Header of the first shard (the one that carries the metadata). */
  header: GgufHeader;
  /** Every shard, in order (one path when not split). */
  shards: string[];
  parameterCount: number;
  /** Bytes of all shard files. */
  totalBytes: number;
  bytesRead: number;
}

const SHARD_NAME = /^(?<prefix>.*?)-(?<shard>\d{5})-of-(?<total>\d{5})\.gguf$/;

/** The shard files a `name-00001-of-00003.gguf` file belongs to, or undefined when the name is not a shard name. */
export function ggufShardSet(fileName: string): { prefix: string; index: number; names: string[] } | undefined {
  const m = SHARD_NAME.exec(fileName);
  if (!m?.groups) return undefined;
  const total = Number(m.groups.total);
  const width = m.groups.total!.length;
  const names = Array.from({ length: total }, (_, i) => `${m.groups!.prefix}-${String(i + 1).padStart(width, '0')}-of-${m.groups!.total}.gguf`);
  return { prefix: m.groups.prefix!, index: Number(m.groups.shard), names };
}

/**
 * Reads a GGUF model: one file, or every shard of a `-0000N-of-0000M.gguf` set (given any of them).
 * @throws FILE_NOT_FOUND naming the missing shards; INVALID_FILE for a bad header
 */
export async function readGgufModel(path: string, limits: GgufLimits = {}): Promise<GgufModel> {
  return readGgufModelSync(path, limits);
}

/** `readGgufModel`, synchronously. */
export function readGgufModelSync(path: string, limits: GgufLimits = {}): GgufModel {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  const dir = path.slice(0, slash + 1);
  const set = ggufShardSet(path.slice(slash + 1));
  const shards = set ? set.names.map((n) => dir + n) : [path];
  const headers: GgufHeader[] = [];
  const missing: string[] = [];
  for (const shard of shards) {
    try {
      headers.push(readGgufHeaderSync(shard, limits));
    } catch (error) {
      if ((error as { code?: string }).code === 'FILE_NOT_FOUND') missing.push(shard);
      else throw error;
    }
  }
  if (missing.length > 0) {
    throw new ModelManagerError('FILE_NOT_FOUND', `${path}: ${missing.length} of ${shards.length} GGUF shards are missing (first: ${missing[0]})`, {
      details: { path, missing, reason: 'incomplete shard set' },
    });
  }
  const header = headers[0]!;
  return {
    header,
    shards,
    parameterCount: headers.reduce((a, h) => a + h.parameterCount, 0),
    totalBytes: headers.reduce((a, h) => a + h.fileSize, 0),
    bytesRead: headers.reduce((a, h) => a + h.bytesRead, 0),
  };
}
