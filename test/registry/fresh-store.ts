/**
 * What a store gives the contract suite, and the fresh store each case of the suite runs on.
 */
import { Registry, type ModelMetadataInput, type RegistryStore, type StoreKind } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

export interface StoreContractOptions {
  /** Name shown in the test report. */
  name: string;
  /** The kind child processes open the store with: `Registry.open({ store: kind, db: location })`. */
  kind: StoreKind;
  /** Opens (or reopens) the store at `location`. */
  open: (location: string) => Promise<RegistryStore>;
  /**
   * A location no store has used yet, for a case running in the empty temp folder `dir`: a file
   * path inside it for a file store; a server store may return e.g. the URL of a new schema.
   */
  newLocation: (dir: string) => string | Promise<string>;
  /** Frees a location once its case is done (a server store drops its schema); file stores need nothing, their folder goes. */
  dropLocation?: (location: string) => Promise<void>;
  /**
   * File stores: writes, at `path`, a valid file of this store's format that belongs to another
   * program. Given, the cases on files that are not a registry (empty, cut short, corrupt, foreign) run.
   */
  writeForeign?: (path: string) => Promise<void>;
}

/** A registry on a store of its own, removed with its temp folder when disposed. */
export interface FreshStore extends AsyncDisposable {
  registry: Registry;
  location: string;
  /** The case's temp folder. */
  dir: string;
  /** Closes the registry and opens the store again at the same location. */
  reopen(): Promise<Registry>;
}

/** A new, empty store for one case, holding `models` when given. */
export async function freshStore(options: StoreContractOptions, models: readonly ModelMetadataInput[] = []): Promise<FreshStore> {
  const dir = tempDir('mm-contract-');
  const location = await options.newLocation(dir.path);
  const fresh: FreshStore = {
    registry: await Registry.open({ instance: await options.open(location) }),
    location,
    dir: dir.path,
    async reopen() {
      await fresh.registry.close();
      fresh.registry = await Registry.open({ instance: await options.open(location) });
      return fresh.registry;
    },
    async [Symbol.asyncDispose]() {
      await fresh.registry.close();
      await options.dropLocation?.(location);
      dir[Symbol.dispose]();
    },
  };
  try {
    if (models.length > 0) await fresh.registry.addModels(models);
  } catch (error) {
    await fresh[Symbol.asyncDispose]();
    throw error;
  }
  return fresh;
}
