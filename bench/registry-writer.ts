/**
 * A child process of the registry benchmark: opens the registry, makes its models, says `ready`,
 * and on `go` (a line on stdin) adds them one at a time (one transaction each, as edits and
 * imports by hand come), then says `done`.
 *
 * Usage: node registry-writer.js <kind> <db> <first> <count>
 */
import { createInterface } from 'node:readline';
import { Registry, parseStoreKind, validateModel } from '../src/index.js';
import { benchModel, random } from './registry-data.js';

const [kind = 'sqlite', db = '', first = '0', count = '0'] = process.argv.slice(2);
const registry = await Registry.open({ store: parseStoreKind(kind), db });
const start = Number(first);
const models = Array.from({ length: Number(count) }, (_, k) => {
  const model = validateModel(benchModel(start + k, random(start + k)));
  // Ids of their own, beyond those the benchmark loaded.
  return { ...model, modelId: `${model.modelId}-w${start + k}` };
});
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
for (const model of models) await registry.addModel(model);
process.stdout.write('done\n');
await registry.close();
