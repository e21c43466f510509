/**
 * The JSON store's file: its document shape and how it is recognised (src/atomic-file.ts replaces it).
 *
 * A file that is empty, not valid JSON, or JSON of another program, is refused and never written
 * to: the store only ever replaces a file it has just read and recognised as its own.
 */
import { readFile, stat } from 'node:fs/promises';
import { ModelManagerError } from '../../errors.js';
import type { ModelMetadata } from '../schema.js';
import { corruptFileError, emptyFileError } from './store-file.js';

export const JSON_FORMAT = 'model-manager/registry';
export const JSON_FORMAT_VERSION = 1;

/**
 * One numbered version of a model. Older versions carry the record as it was then; the current
 * one does not, its record is the one under `models` (so a file holds each record once).
 */
export interface JsonVersion {
  version: number;
  createdAt: string;
  change: string;
  model?: ModelMetadata;
}

export interface JsonCacheEntry {
  value: unknown;
  /** Epoch milliseconds, or null for no expiry. */
  expiresAt: number | null;
}

/** The whole registry as one human-readable document. */
export interface JsonDocument {
  format: typeof JSON_FORMAT;
  formatVersion: number;
  /** Current record of each model, by id. */
  models: Record<string, ModelMetadata>;
  /** Every version of each model, oldest first; the last one is the current version. */
  versions: Record<string, JsonVersion[]>;
  /** Cached computed values, by model id then key. */
  cache: Record<string, Record<string, JsonCacheEntry>>;
}

export function emptyDocument(): JsonDocument {
  return { format: JSON_FORMAT, formatVersion: JSON_FORMAT_VERSION, models: {}, versions: {}, cache: {} };
}

/** What identifies one state of the file: a rename gives a new inode, a rewrite a new mtime or size. */
export interface FileSignature {
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

export function sameSignature(a: FileSignature | undefined, b: FileSignature | undefined): boolean {
  return a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** The file's signature, or undefined when it does not exist. */
export async function signatureOf(path: string): Promise<FileSignature | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    if (!s.isFile()) {
      throw new ModelManagerError('STORE_IO', `${path} is not a file; point --db at a JSON file`, { details: { path } });
    }
    return { ino: s.ino, size: s.size, mtimeNs: s.mtimeNs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses the file's text, refusing anything that is not a registry document of ours. */
export function parseDocument(text: string, path: string): JsonDocument {
  const leftUntouched = 'it was left untouched';
  if (text.trim() === '') throw emptyFileError(path, 'JSON');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw corruptFileError(path, 'JSON', `not valid JSON: ${(error as Error).message}`, error);
  }
  if (!isObject(doc) || doc.format !== JSON_FORMAT) {
    throw new ModelManagerError('STORE_FOREIGN', `${path} is a JSON file of another program (no "format": "${JSON_FORMAT}"); ${leftUntouched}. Point --db at a new file.`, {
      details: { path },
    });
  }
  if (typeof doc.formatVersion !== 'number' || doc.formatVersion > JSON_FORMAT_VERSION) {
    throw new ModelManagerError('STORE_FOREIGN', `${path} has registry format version ${String(doc.formatVersion)}, newer than this Model Manager reads; ${leftUntouched}. Upgrade Model Manager.`, {
      details: { path, formatVersion: doc.formatVersion },
    });
  }
  if (!isObject(doc.models) || !isObject(doc.versions) || !isObject(doc.cache)) {
    throw new ModelManagerError('STORE_CORRUPT', `${path} is damaged: "models", "versions" and "cache" must be objects; ${leftUntouched}. Restore it from a backup.`, {
      details: { path },
    });
  }
  return doc as unknown as JsonDocument;
}

/**
 * The file's text: top-level keys on their own lines and one line per model, version list and
 * cache entry, so it reads (and diffs) record by record yet costs little more than compact JSON.
 */
export function serializeDocument(doc: JsonDocument): string {
  const map = (entries: Record<string, unknown>) => {
    const lines = Object.entries(entries).map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
    return lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n  }`;
  };
  return `{
  "format": ${JSON.stringify(doc.format)},
  "formatVersion": ${doc.formatVersion},
  "models": ${map(doc.models)},
  "versions": ${map(doc.versions)},
  "cache": ${map(doc.cache)}
}
`;
}

/** Reads and parses the file, with the signature of what was read. */
export async function readDocument(path: string): Promise<{ doc: JsonDocument; signature: FileSignature | undefined }> {
  // Retry if the file is replaced while we read it, so the signature always describes the text parsed.
  for (;;) {
    const before = await signatureOf(path);
    if (!before) return { doc: emptyDocument(), signature: undefined };
    const text = await readFile(path, 'utf8');
    const after = await signatureOf(path);
    if (sameSignature(before, after)) return { doc: parseDocument(text, path), signature: after };
  }
}
