import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({ name: 'sqlite', file: 'registry.db', open: (path) => SqliteStore.open(path) });
