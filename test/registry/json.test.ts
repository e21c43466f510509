import { writeFile } from 'node:fs/promises';
import { JsonStore } from '../../src/registry/stores/json.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'json',
  kind: 'json',
  file: 'registry.json',
  open: (path) => JsonStore.open(path),
  writeForeign: (path) => writeFile(path, `${JSON.stringify({ name: 'my-app', version: '1.0.0', models: [] }, null, 2)}\n`),
});
