/**
 * Embedding cache: one vector per (model, parameters, sha256 of text), least recently used
 * entries dropped past `maxEntries`, entries older than `ttlMs` ignored, optional JSON file
 * that is read on start and written (atomically) on save.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import { ModelManagerError } from '../errors.js';
import type { EmbeddingParams } from './backends/backend.js';
import { embeddingParamsKey } from './task-input.js';

export interface EmbeddingCacheOptions {
  /** Entries kept; the least recently used go first. 0 disables the cache. Defaults to 10,000. */
  maxEntries?: number;
  /** How long an entry is served. Defaults to 1 hour. */
  ttlMs?: number;
  /** JSON file the cache is loaded from on start and saved to on shutdown. Defaults to none (memory only). */
  persistPath?: string;
}

export interface EmbeddingCacheStats {
  hits: number;
  misses: number;
  entries: number;
  /** hits / (hits + misses); 0 before any lookup. */
  hitRate: number;
  maxEntries: number;
  ttlMs: number;
  persistPath: string | null;
}

/** A request's texts looked up once: each text hashed once, each found or not. */
export interface CachedTexts {
  /** The model the keys are of. */
  readonly model: string;
  /** One key per text. */
  readonly keys: readonly string[];
  /** The cached vector of each text, or undefined. */
  readonly vectors: readonly (number[] | undefined)[];
}

interface Entry {
  vector: number[];
  expiresAt: number;
}

interface PersistedCache {
  version: 1;
  entries: [key: string, vector: number[], expiresAt: number][];
}

export class EmbeddingCache {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly persistPath: string | undefined;
  // A Map iterates in insertion order; re-inserting on every hit keeps the oldest first.
  readonly #entries = new Map<string, Entry>();
  #hits = 0;
  #misses = 0;

  constructor({ maxEntries = 10_000, ttlMs = 3_600_000, persistPath }: EmbeddingCacheOptions = {}) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
    this.persistPath = persistPath;
  }

  /** The key of one text: model and parameters in clear, the text hashed. */
  static key(model: string, params: string, text: string): string {
    return `${model}\0${params}\0${sha256(text)}`;
  }

  /** The text's part of its key (sha256, hex): what a request pays per text to use the cache. */
  digest(text: string): string {
    return sha256(text);
  }

  /**
   * Looks up the texts of one request under a model and its parameters: each text hashed once,
   * and counted once as a hit or a miss. Undefined when the cache is off (nothing is hashed).
   */
  lookup(model: string, params: EmbeddingParams, texts: readonly string[]): CachedTexts | undefined {
    if (this.maxEntries <= 0) return undefined;
    const prefix = `${model}\0${embeddingParamsKey(params)}\0`;
    const keys = texts.map((text) => prefix + this.digest(text));
    return { model, keys, vectors: keys.map((key) => this.get(key)) };
  }

  /** True when a fresh entry exists; counts neither a hit nor a miss. */
  has(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expiresAt > Date.now();
  }

  get(key: string): number[] | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt > Date.now()) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#hits += 1;
      // Copies in and out: a caller changing its vector must not change what others are served.
      return entry.vector.slice();
    }
    if (entry) this.#entries.delete(key);
    this.#misses += 1;
    return undefined;
  }

  set(key: string, vector: number[]): void {
    if (this.maxEntries <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { vector: vector.slice(), expiresAt: Date.now() + this.ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Drops every entry of one model (all of them without `model`). */
  clear(model?: string): void {
    if (model === undefined) return this.#entries.clear();
    for (const key of this.#entries.keys()) if (key.startsWith(`${model}\0`)) this.#entries.delete(key);
  }

  stats(): EmbeddingCacheStats {
    const lookups = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      entries: this.#entries.size,
      hitRate: lookups === 0 ? 0 : this.#hits / lookups,
      maxEntries: this.maxEntries,
      ttlMs: this.ttlMs,
      persistPath: this.persistPath ?? null,
    };
  }

  /** Reads the persisted entries that are still fresh. A missing file is an empty cache. @throws INVALID_FILE */
  async load(): Promise<number> {
    if (!this.persistPath) return 0;
    const text = await readFile(this.persistPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return 0;
    let data: PersistedCache;
    try {
      data = JSON.parse(text) as PersistedCache;
      if (data.version !== 1 || !Array.isArray(data.entries)) throw new Error('unexpected layout');
    } catch (cause) {
      throw new ModelManagerError('INVALID_FILE', `embedding cache file ${this.persistPath} is not readable: delete it (it is only a cache)`, {
        cause,
        details: { path: this.persistPath },
      });
    }
    const now = Date.now();
    let loaded = 0;
    for (const [key, vector, expiresAt] of data.entries) {
      if (typeof key !== 'string' || !Array.isArray(vector) || !(expiresAt > now)) continue;
      this.#entries.set(key, { vector, expiresAt });
      loaded += 1;
    }
    return loaded;
  }

  /** Writes the fresh entries to `persistPath` atomically (a crash never leaves half a file). */
  async save(): Promise<void> {
    if (!this.persistPath) return;
    const now = Date.now();
    const entries: PersistedCache['entries'] = [];
    for (const [key, { vector, expiresAt }] of this.#entries) if (expiresAt > now) entries.push([key, vector, expiresAt]);
    await mkdir(dirname(this.persistPath), { recursive: true });
    await writeFileAtomically(this.persistPath, JSON.stringify({ version: 1, entries } satisfies PersistedCache));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
