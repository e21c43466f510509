import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'sqlite',
  kind: 'sqlite',
  file: 'registry.db',
  open: (path) => SqliteStore.open(path),
  writeForeign: async (path) => {
    const db = new Database(path);
    db.exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices (total) VALUES (9.5);`);
    db.close();
  },
});
