/**
 * The contract every RegistryStore must keep. Each store's test file calls `runStoreContract`,
 * so SQLite, JSON and DuckDB go through exactly the same cases.
 */
import { describe } from 'node:test';
import type { RegistryStore, StoreKind } from '../../src/index.js';
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
}

export function runStoreContract(options: StoreContractOptions): void {
  describe(`store contract: ${options.name}`, () => {
    recordCases(options);
    queryCases(options);
    agreementCases(options);
    durabilityCases(options);
  });
}
