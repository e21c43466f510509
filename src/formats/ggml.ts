/**
 * Legacy GGML files (before GGUF): only the magic and version are read, to tell them apart
 * from other `.bin` files. Their layouts changed with every version and no runtime here loads them.
 */
import { open } from 'node:fs/promises';

/** Magics as little-endian u32s, the way llama.cpp wrote them. */
const GGML_MAGICS: Record<number, string> = {
  0x67676d6c: 'ggml', // unversioned
  0x67676d66: 'ggmf',
  0x67676a74: 'ggjt',
  0x67676c61: 'ggla', // LoRA adapter
  0x6767736e: 'ggsn',
};

export interface GgmlMagic {
  /** `ggml`, `ggmf`, `ggjt`, `ggla` or `ggsn`. */
  magic: string;
  /** File version (absent for unversioned `ggml`). */
  version?: number;
}

/** Tells a legacy GGML magic from the first 8 bytes of a file, or undefined when it is not one. */
export function parseGgmlMagic(head: Uint8Array): GgmlMagic | undefined {
  if (head.length < 4) return undefined;
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const magic = GGML_MAGICS[b.readUInt32LE(0)];
  if (!magic) return undefined;
  return magic === 'ggml' || b.length < 8 ? { magic } : { magic, version: b.readUInt32LE(4) };
}

/** Reads the first 8 bytes of a file and tells whether it is a legacy GGML file. */
export async function readGgmlMagic(path: string): Promise<GgmlMagic | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    return parseGgmlMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}
