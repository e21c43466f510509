/**
 * Discovery plugins through the server: a refresh runs the plugins of model_discovery.json, the
 * models they found are listed as discovered, and what went wrong is in the scan log, naming them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Discovery, loadConfig } from '../../src/index.js';
import { writePluginTree } from '../discovery/plugin-fixtures.js';
import { startHarness } from './harness.js';

test('POST /api/models/discovery/refresh runs the plugins; their warnings name them in /api/models/discovery/logs', async () => {
  let tree: ReturnType<typeof writePluginTree> | undefined;
  await using h = await startHarness({}, [], async ({ registry, dir, modelsDir }) => {
    tree = writePluginTree(dir);
    assert.equal(tree.root, modelsDir);
    const discovery = await Discovery.create({ registry, roots: [modelsDir], stateDir: join(dir, 'discovery'), config: loadConfig({ MM_HOME: join(dir, 'home') }) });
    return { options: { discovery }, close: () => discovery.close() };
  });
  assert.ok(tree);
  const refresh = await h.app.inject({ method: 'POST', url: '/api/models/discovery/refresh', payload: {} });
  assert.equal(refresh.statusCode, 200, refresh.body);
  assert.deepEqual(refresh.json().modelIds, ['llama/tiny', 'vendor/alpha']);

  const discovered = (await h.app.inject({ url: '/api/models/discovered' })).json() as { models: { modelId: string }[] };
  assert.deepEqual(discovered.models.map((m) => m.modelId).sort(), ['llama/tiny', 'vendor/alpha']);

  const { logs } = (await h.app.inject({ url: '/api/models/discovery/logs' })).json() as { logs: { path?: string; message: string; level: string }[] };
  const warned = new Map(logs.filter((e) => e.level === 'warn').map((e) => [e.path, e.message]));
  assert.match(warned.get(tree.boom) ?? '', /discovery plugin "throws" failed in extractMetadata\(\)/);
  assert.match(warned.get(tree.slow) ?? '', /discovery plugin "hangs" did not finish extractMetadata\(\)/);
  assert.match(warned.get(tree.bad) ?? '', /discovery plugin "invalid" returned invalid metadata/);
});
