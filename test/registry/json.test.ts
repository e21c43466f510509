import { JsonStore } from '../../src/registry/stores/json.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({ name: 'json', file: 'registry.json', open: (path) => JsonStore.open(path) });
