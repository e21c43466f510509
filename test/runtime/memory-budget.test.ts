import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import { chooseEvictions, type BudgetedModel } from '../../src/runtime/memory-budget.js';

const model = (name: string, sizeBytes: number, lastUse: number, idle = true): BudgetedModel => ({ name, sizeBytes, lastUse, idle });

test('idle models are evicted least recently used first, only as many as needed', () => {
  const loaded = [model('a', 400, 3), model('b', 400, 1), model('c', 400, 2)];
  assert.deepEqual(chooseEvictions(loaded, 'new', 300, { budgetBytes: 1500, maxLoadedModels: 10 }), []);
  assert.deepEqual(chooseEvictions(loaded, 'new', 500, { budgetBytes: 1500, maxLoadedModels: 10 }).map((m) => m.name), ['b']);
  assert.deepEqual(chooseEvictions(loaded, 'new', 900, { budgetBytes: 1500, maxLoadedModels: 10 }).map((m) => m.name), ['b', 'c']);
  assert.deepEqual(chooseEvictions(loaded, 'new', 1, { budgetBytes: 1500, maxLoadedModels: 3 }).map((m) => m.name), ['b']);
});

test('models in use are never evicted: when idle ones are not enough the load is refused', () => {
  const loaded = [model('busy', 1000, 1, false), model('idle', 100, 2)];
  assert.throws(
    () => chooseEvictions(loaded, 'big', 600, { budgetBytes: 1500, maxLoadedModels: 10 }),
    (e) => isModelManagerError(e, 'OUT_OF_MEMORY') && /release a model or raise memoryBudgetBytes/.test(e.message),
  );
  assert.throws(
    () => chooseEvictions([model('busy', 1, 1, false)], 'next', 1, { budgetBytes: 1500, maxLoadedModels: 1 }),
    (e) => isModelManagerError(e, 'OUT_OF_MEMORY') && /maxLoadedModels/.test(e.message),
  );
});
