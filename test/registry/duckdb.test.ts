import { DuckDbStore } from '../../src/registry/stores/duckdb.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({ name: 'duckdb', file: 'registry.duckdb', open: (path) => DuckDbStore.open(path) });
