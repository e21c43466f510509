/**
 * What discovery keeps between scans, in files under `MM_HOME/discovery/` (one set per registry):
 * - the scan index: for each model path, the id it was registered under and its files'
 *   fingerprint (paths, sizes, mtimes), so unchanged models are not read again;
 * - the last scan's summary, for `status()` in a later process;
 * - the scan log, JSON lines, trimmed to the newest `maxEntries`.
 */
import { hash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import type { FoundFile, ScanLogEntry, ScanSummary } from './types.js';

export interface IndexEntry {
  /** Empty for a model that could not be read. */
  modelId: string;
  fingerprint: string;
  /** Why the model could not be read (its warning, repeated while its files stay the same). */
  failed?: { path: string; reason: string };
}

/**
 * What discovery makes of a model's files. Raised whenever that changes (2: precision
 * variants counted once, safetensors without config.json), so models indexed by an older reader
 * are read again once instead of keeping what it made of them until their files change.
 */
export const READER_VERSION = 2;

interface IndexFile {
  format: 'model-manager/discovery-index';
  version: 1;
  /** READER_VERSION when the index was saved (absent: 1). */
  reader?: number;
  lastScan?: ScanSummary;
  /** Discovered models in the registry when the index was saved: a changed count means someone else changed them. */
  discoveredCount?: number;
  models: Record<string, IndexEntry>;
}

/** A fingerprint of a model's files: changes when any is added, removed, resized, touched or (in a store that names it) its hash changes. */
export function fingerprint(files: readonly FoundFile[]): string {
  // One line per file, in path order ('\0' sorts first, so lines sort as their paths do), hashed
  // in one call (the one-shot `hash`, ~20% less than a Hash object): a rescan hashes every model.
  const lines = files.map((f) => `${f.path}\0${f.size}\0${f.mtimeMs}${f.sha256 === undefined ? '' : `\0${f.sha256}`}\n`).sort();
  return hash('sha1', lines.join(''), 'base64url');
}

export class DiscoveryState {
  readonly indexPath: string;
  readonly logPath: string;
  models: Map<string, IndexEntry> = new Map();
  lastScan: ScanSummary | undefined;
  discoveredCount: number | undefined;
  readonly #maxLogEntries: number;
  #logLines = 0;

  private constructor(dir: string, key: string, maxLogEntries: number) {
    this.indexPath = join(dir, `index-${key}.json`);
    this.logPath = join(dir, `scans-${key}.jsonl`);
    this.#maxLogEntries = maxLogEntries;
  }

  /** Opens the state of the registry at `registryLocation`; a missing or unreadable index starts empty (the next scan reads everything). */
  static async open(dir: string, registryLocation: string, { maxLogEntries = 5000 } = {}): Promise<DiscoveryState> {
    await mkdir(dir, { recursive: true });
    const key = hash('sha1', registryLocation, 'hex').slice(0, 12);
    const state = new DiscoveryState(dir, key, maxLogEntries);
    try {
      const doc = JSON.parse(await readFile(state.indexPath, 'utf8')) as Partial<IndexFile>;
      if (doc.format === 'model-manager/discovery-index' && doc.models) {
        state.models = new Map(Object.entries(doc.models));
        // An older reader's findings: forget the fingerprints (ids stay), so every model is read again.
        if ((doc.reader ?? 1) !== READER_VERSION) for (const entry of state.models.values()) entry.fingerprint = '';
        state.lastScan = doc.lastScan;
        state.discoveredCount = doc.discoveredCount;
      }
    } catch {
      // no index yet, or a damaged one: it is only a cache
    }
    try {
      state.#logLines = (await readFile(state.logPath, 'utf8')).split('\n').length - 1;
    } catch {
      state.#logLines = 0;
    }
    return state;
  }

  async saveIndex(): Promise<void> {
    const doc: IndexFile = { format: 'model-manager/discovery-index', version: 1, reader: READER_VERSION, models: Object.fromEntries(this.models) };
    if (this.lastScan) doc.lastScan = this.lastScan;
    if (this.discoveredCount !== undefined) doc.discoveredCount = this.discoveredCount;
    await writeFileAtomically(this.indexPath, JSON.stringify(doc));
  }

  /** Appends log entries; past twice the limit, the file is cut back to the newest `maxLogEntries`. */
  async appendLog(entries: readonly ScanLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await appendFile(this.logPath, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.#logLines += entries.length;
    if (this.#logLines > 2 * this.#maxLogEntries) {
      const lines = (await readFile(this.logPath, 'utf8')).split('\n').filter(Boolean).slice(-this.#maxLogEntries);
      await writeFileAtomically(this.logPath, `${lines.join('\n')}\n`);
      this.#logLines = lines.length;
    }
  }

  /** The newest log entries first. */
  async readLog({ limit = 100, scanId }: { limit?: number; scanId?: string } = {}): Promise<ScanLogEntry[]> {
    let text: string;
    try {
      text = await readFile(this.logPath, 'utf8');
    } catch {
      return [];
    }
    const out: ScanLogEntry[] = [];
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
      if (!lines[i]) continue;
      try {
        const entry = JSON.parse(lines[i]!) as ScanLogEntry;
        if (scanId === undefined || entry.scanId === scanId) out.push(entry);
      } catch {
        // a line cut short by a crash: skip it
      }
    }
    return out;
  }
}
