import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbStore } from '../../src/registry/stores/duckdb.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'duckdb',
  kind: 'duckdb',
  file: 'registry.duckdb',
  open: (path) => DuckDbStore.open(path),
  writeForeign: async (path) => {
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE invoices (id INTEGER, total DOUBLE); INSERT INTO invoices VALUES (1, 9.5); CHECKPOINT;`);
    connection.closeSync();
    instance.closeSync();
  },
});
