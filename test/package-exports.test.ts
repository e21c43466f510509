/**
 * The package's entry points as a user imports them by name: the whole API, and each area alone
 * (a script that only reads the registry need not load the server or the inference engines).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

const AREAS: Record<string, string> = {
  errors: 'ModelManagerError',
  registry: 'Registry',
  hub: 'importFromHuggingFace',
  estimate: 'estimateMemory',
  formats: 'readSafetensorsHeader',
  discovery: 'Discovery',
  runtime: 'ModelManager',
  testmodels: 'writeTestModel',
  server: 'createServer',
  settings: 'loadSettings',
};

test('each area is importable alone by its subpath, with the same classes as the whole API', async () => {
  const whole = (await import('model-manager')) as Record<string, unknown>;
  for (const [area, name] of Object.entries(AREAS)) {
    const part = (await import(`model-manager/${area}`)) as Record<string, unknown>;
    assert.equal(typeof part[name], 'function', `model-manager/${area} exports ${name}`);
    if (name in whole) assert.equal(part[name], whole[name], `${name} is one and the same`);
  }
});
