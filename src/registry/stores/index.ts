import { defaultDb, type StoreKind } from '../../config.js';
import { SqliteStore } from './sqlite.js';
import type { RegistryStore } from './store.js';

export type StoreFactory = (path: string) => Promise<RegistryStore>;

/** Every store kind and how to open it; the compiler checks that none is missing. */
export const STORES = {
  sqlite: (path) => SqliteStore.open(path),
  json: async (path) => (await import('./json.js')).JsonStore.open(path),
  duckdb: async (path) => (await import('./duckdb.js')).DuckDbStore.open(path),
  postgres: async (url) => (await import('./postgres.js')).PostgresStore.open(url),
} as const satisfies Record<StoreKind, StoreFactory>;

export interface OpenStoreOptions {
  /** Defaults to `sqlite`. */
  kind?: StoreKind;
  /** The store's file (for postgres its `postgres://` URL); defaults to the kind's file name inside `home`. */
  path?: string;
  /** Folder for the default file name. */
  home?: string;
}

/** Opens a registry store of the given kind. */
export async function openStore({ kind = 'sqlite', path, home }: OpenStoreOptions): Promise<RegistryStore> {
  return STORES[kind](path ?? defaultDb(kind, home ?? '.'));
}
