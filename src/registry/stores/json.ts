/**
 * JsonStore: the whole registry in one human-readable JSON file.
 *
 * Every write takes a lock file (proper-lockfile), re-reads the file when another process changed
 * it, applies the change and replaces the file atomically; so two processes writing at once lose
 * nothing. Reads take no lock (a rename is atomic) and parse the file again only when it changed.
 * Filters, sorting and ranking are the shared ones of query.ts, so this store agrees with SQLite.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { removeStaleTemps, writeFileAtomically } from '../../atomic-file.js';
import { ModelManagerError } from '../../errors.js';
import { compareModels, matchesFilter, page, type ModelFilter } from '../query.js';
import { rankSearch, searchWords, type SearchHit, type SearchWords } from '../search.js';
import type { ModelMetadata } from '../schema.js';
import { computeStats, versionConflict, type RegistryStats, type RegistryStore, type StoredModel, type VersionInfo } from './store.js';
import {
  readDocument, sameSignature, serializeDocument, signatureOf, type FileSignature, type JsonDocument, type JsonVersion,
} from './json-file.js';

export interface JsonStoreOptions {
  /** How long a writer waits for another process's lock before failing with STORE_LOCKED. Defaults to 30000 ms. */
  lockTimeoutMs?: number;
}

// A lock older than this is taken to be left by a crashed process (the holder refreshes it every stale/2 ms).
const STALE_LOCK_MS = 5_000;

const notFound = (modelId: string) =>
  new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered`, { details: { modelId } });

function versionInfo(modelId: string, v: JsonVersion): VersionInfo {
  return { modelId, version: v.version, createdAt: v.createdAt, change: v.change };
}

export class JsonStore implements RegistryStore {
  readonly kind = 'json' as const;
  readonly #lockTimeoutMs: number;
  #doc: JsonDocument | undefined;
  // Search words of the records in #doc: a write replaces a record object, never changes one.
  readonly #words = new WeakMap<ModelMetadata, SearchWords>();
  #signature: FileSignature | undefined;
  // Writes of this process queue here, so they do not poll each other's lock file.
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(readonly location: string, { lockTimeoutMs = 30_000 }: JsonStoreOptions) {
    this.#lockTimeoutMs = lockTimeoutMs;
  }

  /**
   * Opens the registry file at `path`, creating it when absent.
   * @throws ModelManagerError STORE_CORRUPT or STORE_FOREIGN (the file is left untouched), STORE_LOCKED
   */
  static async open(path: string, options: JsonStoreOptions = {}): Promise<JsonStore> {
    const store = new JsonStore(resolve(path), options);
    await mkdir(dirname(store.location), { recursive: true });
    await store.#read();
    if (store.#signature === undefined) await store.#write(() => undefined);
    // Only once the file is known to be ours: its folder may hold anything.
    await removeStaleTemps(store.location);
    return store;
  }

  /** The current document, parsed again only when the file changed since it was last read. */
  async #read(): Promise<JsonDocument> {
    if (this.#closed) throw new ModelManagerError('STORE_IO', `the JSON registry ${this.location} is closed`);
    const now = await signatureOf(this.location);
    if (this.#doc && (sameSignature(now, this.#signature) || (now === undefined && this.#signature === undefined))) return this.#doc;
    const { doc, signature } = await readDocument(this.location);
    this.#doc = doc;
    this.#signature = signature;
    return doc;
  }

  /** Runs `change` on the freshest document under the lock, then replaces the file. */
  async #write<T>(change: (doc: JsonDocument) => T): Promise<T> {
    const run = this.#writes.then(() => this.#writeLocked(change));
    this.#writes = run.catch(() => undefined);
    return run;
  }

  async #writeLocked<T>(change: (doc: JsonDocument) => T): Promise<T> {
    let compromised: Error | undefined;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.location, {
        realpath: false,
        stale: STALE_LOCK_MS,
        retries: { retries: Math.ceil(this.#lockTimeoutMs / 25), minTimeout: 2, maxTimeout: 25, factor: 1.5, randomize: true },
        onCompromised: (error) => {
          compromised = error;
        },
      });
    } catch (error) {
      throw new ModelManagerError('STORE_LOCKED', `the JSON registry ${this.location} is locked by another writer (${(error as Error).message}); try again, or remove ${this.location}.lock if no Model Manager is running`, {
        details: { path: this.location },
        cause: error,
      });
    }
    try {
      const doc = await this.#read();
      const result = change(doc);
      if (compromised) {
        throw new ModelManagerError('STORE_LOCKED', `lost the lock on ${this.location} while writing; nothing was written, try again`, { cause: compromised });
      }
      await writeFileAtomically(this.location, serializeDocument(doc));
      this.#signature = await signatureOf(this.location);
      return result;
    } catch (error) {
      // The change may have touched the cached document without reaching the file: read it afresh next time.
      this.#doc = undefined;
      this.#signature = undefined;
      throw error;
    } finally {
      await release().catch(() => undefined);
    }
  }

  async insert(models: readonly ModelMetadata[], change: string): Promise<VersionInfo[]> {
    return this.#write((doc) => {
      for (const model of models) {
        if (doc.models[model.modelId]) {
          throw new ModelManagerError('MODEL_EXISTS', `model "${model.modelId}" is already registered; use update, or remove it first`, {
            details: { modelId: model.modelId },
          });
        }
      }
      return models.map((model) => {
        const entry: JsonVersion = { version: 1, createdAt: model.updatedAt ?? new Date().toISOString(), change };
        doc.models[model.modelId] = structuredClone(model);
        doc.versions[model.modelId] = [entry];
        return versionInfo(model.modelId, entry);
      });
    });
  }

  async update(model: ModelMetadata, change: string, expectedVersion?: number): Promise<VersionInfo> {
    return this.#write((doc) => {
      const versions = doc.versions[model.modelId];
      const previous = doc.models[model.modelId];
      const last = versions?.at(-1);
      if (!previous || !versions || !last) throw notFound(model.modelId);
      const current = last.version;
      if (expectedVersion !== undefined && current !== expectedVersion) throw versionConflict(model.modelId, current, expectedVersion);
      const entry: JsonVersion = { version: current + 1, createdAt: model.updatedAt ?? new Date().toISOString(), change };
      last.model = previous;
      doc.models[model.modelId] = structuredClone(model);
      versions.push(entry);
      return versionInfo(model.modelId, entry);
    });
  }

  async replaceCurrent(model: ModelMetadata, expectedVersion?: number): Promise<VersionInfo> {
    return this.#write((doc) => {
      const last = doc.versions[model.modelId]?.at(-1);
      if (!doc.models[model.modelId] || !last) throw notFound(model.modelId);
      if (expectedVersion !== undefined && last.version !== expectedVersion) throw versionConflict(model.modelId, last.version, expectedVersion);
      // The current version's record is the one in `models` (older ones are kept with their version).
      doc.models[model.modelId] = structuredClone(model);
      return versionInfo(model.modelId, last);
    });
  }

  async remove(modelId: string): Promise<boolean> {
    if (!(await this.#read()).models[modelId]) return false;
    return this.#write((doc) => {
      const existed = doc.models[modelId] !== undefined;
      delete doc.models[modelId];
      delete doc.versions[modelId];
      delete doc.cache[modelId];
      return existed;
    });
  }

  async get(modelId: string): Promise<StoredModel | undefined> {
    const doc = await this.#read();
    const model = doc.models[modelId];
    if (!model) return undefined;
    return { model: structuredClone(model), version: doc.versions[modelId]?.at(-1)?.version ?? 1 };
  }

  async #matching(filter: ModelFilter): Promise<ModelMetadata[]> {
    return Object.values((await this.#read()).models).filter((m) => matchesFilter(m, filter));
  }

  async list(filter: ModelFilter): Promise<ModelMetadata[]> {
    const sorted = (await this.#matching(filter)).sort(compareModels(filter.sort, filter.order));
    return structuredClone(page(sorted, filter));
  }

  async count(filter: ModelFilter): Promise<number> {
    return (await this.#matching(filter)).length;
  }

  async search(text: string, limit: number): Promise<SearchHit[]> {
    const wordsOf = (model: ModelMetadata) => {
      let words = this.#words.get(model);
      if (!words) this.#words.set(model, (words = searchWords(model)));
      return words;
    };
    const hits = rankSearch(Object.values((await this.#read()).models), text, limit, wordsOf);
    return hits.map((h) => ({ ...h, model: structuredClone(h.model) }));
  }

  async stats(filter: ModelFilter): Promise<RegistryStats> {
    const doc = await this.#read();
    const models = Object.values(doc.models).filter((m) => matchesFilter(m, filter));
    const totalVersions = models.reduce((n, m) => n + (doc.versions[m.modelId]?.length ?? 0), 0);
    return computeStats(models, totalVersions);
  }

  async listVersions(modelId: string): Promise<VersionInfo[]> {
    return ((await this.#read()).versions[modelId] ?? []).map((v) => versionInfo(modelId, v));
  }

  async getVersion(modelId: string, version: number): Promise<ModelMetadata | undefined> {
    const doc = await this.#read();
    const found = doc.versions[modelId]?.find((v) => v.version === version);
    const model = found && (found.model ?? doc.models[modelId]);
    return model && structuredClone(model);
  }

  async cacheGet(modelId: string, key: string): Promise<unknown> {
    const entry = (await this.#read()).cache[modelId]?.[key];
    if (!entry || (entry.expiresAt !== null && entry.expiresAt <= Date.now())) return undefined;
    return structuredClone(entry.value);
  }

  async cacheSet(modelId: string, key: string, value: unknown, ttlMs?: number): Promise<void> {
    // Round-trip through JSON now, so the caller sees at once what a reader of the file will see.
    const stored: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
    await this.#write((doc) => {
      (doc.cache[modelId] ??= {})[key] = { value: stored, expiresAt: ttlMs === undefined ? null : Date.now() + ttlMs };
    });
  }

  async cacheClear(modelId?: string): Promise<number> {
    const doc = await this.#read();
    const holding = modelId === undefined ? Object.values(doc.cache) : [doc.cache[modelId] ?? {}];
    if (holding.every((entries) => Object.keys(entries).length === 0)) return 0;
    return this.#write((fresh) => {
      const ids = modelId === undefined ? Object.keys(fresh.cache) : [modelId];
      let removed = 0;
      for (const id of ids) {
        removed += Object.keys(fresh.cache[id] ?? {}).length;
        delete fresh.cache[id];
      }
      return removed;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#writes;
    this.#closed = true;
    this.#doc = undefined;
  }
}
