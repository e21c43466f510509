/**
 * The file-system side of a scan: listing folders and stating files, with every failure turned
 * into a warning that names the path.
 *
 * These calls are synchronous on purpose: a rescan of 10,000 unchanged folders is ~60,000
 * readdir/stat calls on cached inodes, a few microseconds each when made directly and several
 * times that through the thread pool. The walker yields to the event loop between folders
 * (see `Yielder`) so a server stays responsive during a scan.
 */
import { readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { isInside } from '../formats/confine.js';
import type { FileRole, FoundFile, ScanWarning } from './types.js';

export interface Listing {
  /** name -> full path of regular files (symlinks followed). */
  files: Map<string, string>;
  /** name -> full path of folders (symlinks followed). */
  dirs: Map<string, string>;
  /** Names of `dirs` reached through a symlink. */
  linkedDirs: Set<string>;
}

const MODEL_FILE = /\.(safetensors|gguf|onnx|bin|pt|pth|ckpt|ggml)$/i;

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/**
 * A folder's path with its separator, to which a name from its listing is appended: the join,
 * without normalising paths that are normal already (10,000s of times a scan).
 */
export function folderPrefix(dir: string): string {
  return dir.endsWith(sep) ? dir : dir + sep;
}

/** Collects warnings; one bad path never stops a scan. */
export class WarningSink {
  readonly items: ScanWarning[] = [];
  add(path: string, reason: string): void {
    this.items.push({ path, reason });
  }
}

/** What a listing leaves out and where its symlinks may lead. */
export interface ListingContext {
  isExcluded: (name: string, path: string) => boolean;
  warnings: WarningSink;
  /**
   * The real path symlinks must lead into (the root being scanned): a link that leads elsewhere
   * is a warning, not followed. Undefined follows every link (`followSymlinks`).
   */
  inside?: string;
}

/** The warning of a symlink that leads out of the root. */
export const OUTSIDE_ROOT = 'symlink leads outside the scanned root; not followed (set follow_symlinks in model_discovery.json, or `mm scan --follow-symlinks`, to follow it)';

/** Lists a folder; names that are not UTF-8, excluded names, odd file types and links out of the root are left out (with warnings where it matters). */
export function listFolder(dir: string, { isExcluded, warnings, inside }: ListingContext): Listing | undefined {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    warnings.add(dir, `cannot read folder (${errno(error)}); models below it keep their registry entries`);
    return undefined;
  }
  const listing: Listing = { files: new Map(), dirs: new Map(), linkedDirs: new Set() };
  const prefix = folderPrefix(dir);
  for (const entry of entries) {
    const name = entry.name;
    const path = prefix + name;
    // Node decodes bytes that are not UTF-8 as U+FFFD, so such a path could not be opened again.
    if (name.includes('\uFFFD')) {
      warnings.add(path, 'file name is not valid UTF-8 (registry paths are text); rename it to have it scanned');
      continue;
    }
    if (isExcluded(name, path)) continue;
    let kind: 'file' | 'dir' | 'other' = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
    if (entry.isSymbolicLink()) {
      try {
        const target = statSync(path);
        kind = target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other';
        // Judged by where the link really leads (a link to / would walk the whole file system).
        if (inside !== undefined && !isInside(realpathSync.native(path), inside)) {
          warnings.add(path, OUTSIDE_ROOT);
          continue;
        }
      } catch (error) {
        const code = errno(error);
        warnings.add(path, code === 'ELOOP' ? 'symlink loop (the link leads back to itself)' : code === 'ENOENT' ? 'broken symlink (its target does not exist)' : `cannot follow symlink (${code})`);
        continue;
      }
    }
    if (kind === 'dir') {
      listing.dirs.set(name, path);
      if (entry.isSymbolicLink()) listing.linkedDirs.add(name);
    }
    else if (kind === 'file') listing.files.set(name, path);
    else if (MODEL_FILE.test(name)) warnings.add(path, 'not a regular file (a pipe, socket or device); skipped');
  }
  return listing;
}

/** Size and mtime of a file, or undefined (with a warning) when it cannot be stated. */
export function statFile(path: string, role: FileRole, warnings: WarningSink): FoundFile | undefined {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (error) {
    warnings.add(path, `cannot stat file (${errno(error)})`);
    return undefined;
  }
  return { path, size: s.size, mtimeMs: s.mtimeMs, role };
}

/** The real path of a folder, or undefined when it cannot be resolved. */
export function realFolder(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}

/** Yields to the event loop every few milliseconds of synchronous work. */
export class Yielder {
  #last = performance.now();
  constructor(readonly everyMs = 8) {}
  async maybe(): Promise<void> {
    if (performance.now() - this.#last < this.everyMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.#last = performance.now();
  }
}
