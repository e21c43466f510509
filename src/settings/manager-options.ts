/**
 * Settings as ModelManager's options: the seed's names mapped onto the runtime's (the seed's
 * `sharing.max_shared_models` is `maxLoadedModels`, `embedding_cache.ttl_seconds` is
 * `embeddingCache.ttlMs`, ...). Options passed in code win over the settings.
 */
import { join } from 'node:path';
import { config } from '../config.js';
import type { ModelManagerOptions } from '../runtime/types.js';
import type { LoadedSettings } from './load-settings.js';
import type { Settings } from './schema.js';

/** The ModelManager options the settings stand for; `home` holds the embedding cache file when `persistToDisk` is true. */
export function managerOptions(settings: Settings, home = config().home): ModelManagerOptions {
  const { sharing, embeddingCache: cache } = settings;
  const persistPath = cache.persistToDisk === true ? join(home, 'embedding-cache.json') : cache.persistToDisk || undefined;
  return {
    devicePreference: settings.devicePreference as ModelManagerOptions['devicePreference'],
    gpuMemoryFraction: settings.gpuMemoryFraction,
    memoryBudgetBytes: settings.memoryBudget,
    maxQueue: settings.maxQueue,
    maxLoadedModels: sharing.maxSharedModels,
    defaultKeepAlive: sharing.unloadAfterSeconds < 0 ? -1 : `${sharing.unloadAfterSeconds}s`,
    embeddingCache: { maxEntries: cache.enabled ? cache.maxCacheSize : 0, ttlMs: cache.ttlSeconds * 1000, ...(persistPath ? { persistPath } : {}) },
    models: settings.models,
  };
}

function defined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** `given` over the settings: a value passed in code wins; the embedding cache's fields and the configured models merge one by one. */
export function withSettings(settings: LoadedSettings, given: ModelManagerOptions): ModelManagerOptions {
  const from = managerOptions(settings.values);
  return {
    ...from,
    ...defined(given),
    embeddingCache: { ...from.embeddingCache, ...defined(given.embeddingCache ?? {}) },
    models: { ...from.models, ...given.models },
  };
}
