/**
 * The contract every RegistryStore must keep. Each store's test file calls `runStoreContract`,
 * so every store goes through exactly the same cases, each case on a store of its own:
 *
 *   runStoreContract({ name: 'sqlite', kind: 'sqlite', open: (path) => SqliteStore.open(path),
 *     newLocation: (dir) => `${dir}/registry.db`, writeForeign: ... });
 */
import { describe } from 'node:test';
import { recordCases } from './contract-records.js';
import { queryCases } from './contract-queries.js';
import { searchCases } from './contract-search.js';
import { durabilityCases } from './contract-durability.js';
import { agreementCases } from './contract-agreement.js';
import type { StoreContractOptions } from './fresh-store.js';

export type { StoreContractOptions } from './fresh-store.js';
export { sampleModel } from './samples.js';

export function runStoreContract(options: StoreContractOptions): void {
  describe(`store contract: ${options.name}`, () => {
    recordCases(options);
    queryCases(options);
    searchCases(options);
    agreementCases(options);
    durabilityCases(options);
  });
}
