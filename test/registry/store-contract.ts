/**
 * The contract every RegistryStore must keep. Each store's test file calls `runStoreContract`,
 * so SQLite, JSON and DuckDB go through exactly the same cases.
 */
import { describe } from 'node:test';
import type { ErrorCode, RegistryStore, StoreKind } from '../../src/index.js';
import { recordCases } from './contract-records.js';
import { queryCases } from './contract-queries.js';
import { durabilityCases } from './contract-durability.js';
import { agreementCases } from './contract-agreement.js';

export { sampleModel } from './samples.js';

export interface StoreContractOptions {
  name: string;
  /** The kind child processes pass to `Registry.open`. */
  kind: StoreKind;
  /** Opens (or reopens) the store kept at `path`. */
  open: (path: string) => Promise<RegistryStore>;
  /** File name of the store inside a temp folder. */
  file: string;
  /** Writes, at `path`, a valid file of this store's format that belongs to another program. */
  writeForeign: (path: string) => Promise<void>;
  /** The `db` that `Registry.open` takes for the store kept at `path`. Defaults to the path itself (file stores). */
  dbOf?: (path: string) => string;
  /** What the store must refuse and leave as it was. Defaults to a corrupt file and a file of another program (`writeForeign`). */
  refusals?: StoreRefusal[];
}

/** Something at `path` the store must refuse with `code`, leaving `snapshot(path)` unchanged. */
export interface StoreRefusal {
  what: string;
  code: ErrorCode;
  write: (path: string) => Promise<void>;
  /** Everything the store could have touched, to compare before and after. */
  snapshot: (path: string) => Promise<unknown>;
}

export function runStoreContract(options: StoreContractOptions): void {
  describe(`store contract: ${options.name}`, () => {
    recordCases(options);
    queryCases(options);
    agreementCases(options);
    durabilityCases(options);
  });
}
