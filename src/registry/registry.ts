/**
 * Registry: the model registry's public face, over any RegistryStore.
 *
 * It validates every record, stamps times, makes a version of every change, retries
 * optimistic updates when another writer got there first, and offers the seed's query methods.
 */
import { config as processConfig, storeKindOf, type Config, type StoreKind } from '../config.js';
import { ModelManagerError, isModelManagerError } from '../errors.js';
import { mergePatch } from './merge-patch.js';
import { normalizeFilter, page, type ModelFilter } from './query.js';
import type { SearchHit } from './search.js';
import type { DataType, Measured, ModelMetadata, ModelMetadataInput, QualityMetric } from './schema.js';
import { countVisible, deletedMatching, deletedModelError, isDeleted, listVisible, markDeleted, searchVisible, statsVisible } from './soft-delete.js';
import { openStore } from './stores/index.js';
import type { RegistryStats, RegistryStore, VersionInfo } from './stores/store.js';
import { exportMetadata, importMetadata, type ExportFormat, type ExportOptions, type ImportResult } from './transfer.js';
import { validateModel } from './validate.js';

export interface OpenRegistryOptions {
  /** Store kind. Defaults to `MM_STORE`, else `postgres` when `db` is a `postgres://` URL, else `sqlite`. */
  store?: StoreKind;
  /** Store file, or a `postgres://` URL. Defaults to `MM_DB`, else the kind's file in `MM_HOME` (for postgres: the `PG*` variables). */
  db?: string;
  /** A store already opened (tests, embedders); wins over `store` and `db`. */
  instance?: RegistryStore;
  /** Configuration to take defaults from. Defaults to the process environment. */
  config?: Config;
}

export interface AddQualityMetricInput {
  modelId: string;
  name: string;
  value: number;
  shots?: number;
  source?: string;
}

const UPDATE_RETRIES = 20;

/** The version a reference names: a number, or one of the model's own aliases (never an inherited property such as `toString`). */
function versionNumber(model: ModelMetadata, ref: string): number | undefined {
  if (/^\d+$/.test(ref)) return Number(ref);
  return Object.hasOwn(model.aliases, ref) ? model.aliases[ref] : undefined;
}

export class Registry implements AsyncDisposable {
  readonly store: RegistryStore;
  #closed = false;

  private constructor(store: RegistryStore) {
    this.store = store;
  }

  /** Opens the registry on the configured (or given) store. */
  static async open(options: OpenRegistryOptions = {}): Promise<Registry> {
    if (options.instance) return new Registry(options.instance);
    const cfg = options.config ?? processConfig();
    const kind = storeKindOf(options.store, options.db, cfg.store);
    const path = options.db ?? (options.store && options.store !== cfg.store ? undefined : cfg.db);
    return new Registry(await openStore({ kind, path, home: cfg.home }));
  }

  /** Validates and adds a model as version 1. @throws MODEL_EXISTS, INVALID_METADATA */
  async addModel(input: ModelMetadataInput | ModelMetadata, change = 'add'): Promise<ModelMetadata> {
    const [model] = await this.addModels([input], change);
    return model!;
  }

  /** Adds many models in one transaction: all or none. */
  async addModels(inputs: readonly (ModelMetadataInput | ModelMetadata)[], change = 'add'): Promise<ModelMetadata[]> {
    const now = new Date().toISOString();
    const models = inputs.map((input) => {
      const model = validateModel(input);
      model.createdAt ??= now;
      model.updatedAt = now;
      return model;
    });
    const ids = new Set<string>();
    for (const m of models) {
      if (ids.has(m.modelId)) throw new ModelManagerError('MODEL_EXISTS', `model "${m.modelId}" appears twice in one add`, { details: { modelId: m.modelId } });
      ids.add(m.modelId);
    }
    try {
      await this.store.insert(models, change);
    } catch (error) {
      if (!isModelManagerError(error, 'MODEL_EXISTS')) throw error;
      const deleted = (await Promise.all(models.map((m) => this.store.get(m.modelId)))).find((s) => s && isDeleted(s.model));
      throw deleted ? deletedModelError(deleted, error) : error;
    }
    return models;
  }

  /** The model, or undefined when absent or deleted. `id@alias` or `id@3` reads a version. */
  async getModel(modelId: string): Promise<ModelMetadata | undefined> {
    return (await this.lookupModel(modelId))?.model;
  }

  /**
   * A model named `id`, `id@3` or `id@alias`: the record the name asks for, with the model's
   * current record beside it (who may see a model is decided by what it is now, not by an old version).
   * None for a deleted model, whichever version is named.
   */
  async lookupModel(name: string): Promise<{ model: ModelMetadata; current: ModelMetadata } | undefined> {
    const at = name.lastIndexOf('@');
    const id = at > 0 ? name.slice(0, at) : name;
    const current = (await this.store.get(id))?.model;
    if (!current || isDeleted(current)) return undefined;
    if (at <= 0) return { model: current, current };
    const version = versionNumber(current, name.slice(at + 1));
    const model = version === undefined ? undefined : await this.store.getVersion(id, version);
    return model && { model, current };
  }

  /** Like getModel, but throws MODEL_NOT_FOUND with a hint. */
  async requireModel(modelId: string): Promise<ModelMetadata> {
    const model = await this.getModel(modelId);
    if (!model) {
      throw new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered; see \`mm list\` or \`mm search\``, { details: { modelId } });
    }
    return model;
  }

  /**
   * Applies a change to the current record and stores it as a new version.
   * `change` is a JSON merge patch (RFC 7386: `null` removes a field) or a function of the current record.
   * Retries when another writer updated the model meanwhile.
   */
  async updateModel(
    modelId: string,
    change: Record<string, unknown> | ((current: ModelMetadata) => ModelMetadata | Record<string, unknown>),
    note = 'update',
  ): Promise<ModelMetadata> {
    if (typeof change === 'object') {
      if (change.modelId !== undefined && change.modelId !== modelId) {
        throw new ModelManagerError('INVALID_METADATA', `modelId cannot be changed by an update (remove and add under the new id)`, {
          details: { issues: [{ field: 'modelId', reason: 'read-only' }] },
        });
      }
    }
    return this.#write(modelId, change, (model, version) => this.store.update(model, note, version));
  }

  /**
   * Deletes a model: hidden from every read, its history kept (a rollback to an earlier version
   * restores it), or with `hard` removed together with its history. False when it was not there.
   */
  async deleteModel(modelId: string, { hard = false }: { hard?: boolean } = {}): Promise<boolean> {
    if (hard) return this.store.remove(modelId);
    if (!(await this.getModel(modelId))) return false;
    await this.updateModel(modelId, markDeleted, 'delete');
    return true;
  }

  /** Models deleted without `hard` (which a rollback can restore) that match the filter. */
  async listDeleted(filter: ModelFilter = {}): Promise<ModelMetadata[]> {
    return page(await deletedMatching(this.store, normalizeFilter(filter)), filter);
  }

  /** Reads, changes and writes a model, again from the top when another writer got there first. */
  async #write(
    modelId: string,
    change: Record<string, unknown> | ((current: ModelMetadata) => ModelMetadata | Record<string, unknown>),
    store: (model: ModelMetadata, expectedVersion: number) => Promise<unknown>,
    { restoring = false }: { restoring?: boolean } = {},
  ): Promise<ModelMetadata> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.store.get(modelId);
      if (!stored || (isDeleted(stored.model) && !restoring)) throw new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered`, { details: { modelId } });
      const next = typeof change === 'function' ? change(structuredClone(stored.model)) : mergePatch(stored.model, change);
      const model = validateModel({ ...next, modelId, createdAt: stored.model.createdAt, updatedAt: undefined });
      model.updatedAt = new Date().toISOString();
      try {
        await store(model, stored.version);
        return model;
      } catch (error) {
        if (!isModelManagerError(error, 'VERSION_CONFLICT') || attempt >= UPDATE_RETRIES) throw error;
      }
    }
  }

  /** Removes a model with its history (deleted or not); false when it was not there. */
  async removeModel(modelId: string): Promise<boolean> {
    return this.store.remove(modelId);
  }

  /** Models matching the filter (several values of one field mean any of them; tags mean all of them). */
  async listModels(filter: ModelFilter = {}): Promise<ModelMetadata[]> {
    return listVisible(this.store, normalizeFilter(filter));
  }

  /** How many models match the filter, ignoring limit and offset. */
  async countModels(filter: ModelFilter = {}): Promise<number> {
    return countVisible(this.store, normalizeFilter(filter));
  }

  /**
   * Text search over names (id, name, Hugging Face id), labels (tags, capabilities, type,
   * architecture) and descriptions, best matches first (the rules are in search.ts).
   */
  async searchModels(text: string, { limit = 50 }: { limit?: number } = {}): Promise<SearchHit[]> {
    return searchVisible(this.store, text, limit);
  }

  async getModelsByInputType(dataType: DataType | string): Promise<ModelMetadata[]> {
    return this.listModels({ inputType: dataType });
  }

  async getModelsByOutputType(dataType: DataType | string): Promise<ModelMetadata[]> {
    return this.listModels({ outputType: dataType });
  }

  /** Models that take `input` and produce `output`. */
  async getCompatibleModels(input: DataType | string, output: DataType | string): Promise<ModelMetadata[]> {
    return this.listModels({ inputType: input, outputType: output });
  }

  /** Counts by type, architecture, attention, format and source of the models matching the filter (limit and offset ignored). */
  async getStats(filter: ModelFilter = {}): Promise<RegistryStats> {
    return statsVisible(this.store, normalizeFilter(filter));
  }

  /** The versions of a model, also of a deleted one (its history is kept to restore it from). */
  async listVersions(modelId: string): Promise<VersionInfo[]> {
    await this.#requireStored(modelId);
    return this.store.listVersions(modelId);
  }

  /** One version of a model, also of a deleted one. @throws MODEL_NOT_FOUND, VERSION_NOT_FOUND */
  async getVersion(modelId: string, version: number): Promise<ModelMetadata> {
    await this.#requireStored(modelId);
    const model = await this.store.getVersion(modelId, version);
    if (!model) {
      throw new ModelManagerError('VERSION_NOT_FOUND', `model "${modelId}" has no version ${version}; see \`mm versions ${modelId}\``, {
        details: { modelId, version },
      });
    }
    return model;
  }

  /**
   * Makes a new version equal to an old one (aliases stay as they are now); restores a deleted
   * model. `check` sees the record about to be written and refuses it by throwing; nothing is written then.
   */
  async rollback(modelId: string, version: number | string, { check }: { check?: (next: ModelMetadata) => void } = {}): Promise<ModelMetadata> {
    const current = await this.#requireStored(modelId);
    const number = typeof version === 'number' ? version : versionNumber(current, version);
    if (number === undefined) {
      throw new ModelManagerError('VERSION_NOT_FOUND', `model "${modelId}" has no version or alias "${version}"`, { details: { modelId, version } });
    }
    const old = await this.getVersion(modelId, number);
    const note = `rollback to ${number}`;
    return this.#write(modelId, (now) => {
      const next = { ...old, aliases: now.aliases };
      check?.(next);
      return next;
    }, (model, expected) => this.store.update(model, note, expected), { restoring: true });
  }

  /** The current record, deleted or not. @throws MODEL_NOT_FOUND */
  async #requireStored(modelId: string): Promise<ModelMetadata> {
    const stored = await this.store.get(modelId);
    if (!stored) throw new ModelManagerError('MODEL_NOT_FOUND', `model "${modelId}" is not registered; see \`mm list\` or \`mm search\``, { details: { modelId } });
    return stored.model;
  }

  /** Points an alias (e.g. `production`) at a version. */
  async setAlias(modelId: string, alias: string, version: number): Promise<ModelMetadata> {
    await this.getVersion(modelId, version);
    return this.updateModel(modelId, (m) => ({ ...m, aliases: { ...m.aliases, [alias]: version } }), `alias ${alias} -> ${version}`);
  }

  /** Adds (or replaces, same name and shots) a quality metric such as MMLU 0.625 5-shot. */
  async addQualityMetric({ modelId, name, value, shots, source }: AddQualityMetricInput): Promise<ModelMetadata> {
    const metric: QualityMetric = { name, value, at: new Date().toISOString() };
    if (shots !== undefined) metric.shots = shots;
    if (source !== undefined) metric.source = source;
    return this.updateModel(
      modelId,
      (m) => ({ ...m, qualityMetrics: [...m.qualityMetrics.filter((q) => !(q.name === name && q.shots === shots)), metric] }),
      `metric ${name}`,
    );
  }

  /** Merges free-form performance numbers (e.g. `tokensPerSecond`). */
  async addPerformanceMetrics(modelId: string, metrics: Record<string, number>): Promise<ModelMetadata> {
    return this.updateModel(modelId, (m) => ({ ...m, performanceMetrics: { ...m.performanceMetrics, ...metrics } }), 'performance metrics');
  }

  /** Records what the runtime measured, beside the estimate: in the current version, so runs never bury edits in history. */
  async recordMeasured(modelId: string, measured: Measured): Promise<ModelMetadata> {
    return this.#write(modelId, (m) => ({ ...m, measured }), (model, version) => this.store.replaceCurrent(model, version));
  }

  /** A computed value cached for a model (undefined when absent or expired). */
  async getCached<T = unknown>(modelId: string, key: string): Promise<T | undefined> {
    return (await this.store.cacheGet(modelId, key)) as T | undefined;
  }

  /** Caches a computed value for a model. `ttlMs` defaults to one day. */
  async setCached(modelId: string, key: string, value: unknown, ttlMs = 86_400_000): Promise<void> {
    await this.store.cacheSet(modelId, key, value, ttlMs);
  }

  /** Empties the cache of one model, or of all; returns how many entries went. */
  async clearCache(modelId?: string): Promise<number> {
    return this.store.cacheClear(modelId);
  }

  /** Writes every model (with `withHistory`, every version) to a JSON or YAML file (atomically); returns how many models. */
  async exportMetadata(path: string, format?: ExportFormat, options?: ExportOptions): Promise<number> {
    return exportMetadata(this, path, format, options);
  }

  /** Imports a JSON/YAML file (also the Python managers' snake_case; with history, every version); all records are validated first. */
  async importMetadata(path: string): Promise<ImportResult> {
    return importMetadata(this, path);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
