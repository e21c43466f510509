/**
 * The package's entry points as a user imports them by name: the whole API, and each area alone
 * (a script that only reads the registry need not load the server or the inference engines).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

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
  cluster: 'ClusterMembership',
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

/** Packages that are the server, or engines that run or store models (loaded only when used). */
const SERVER = /\/node_modules\/(fastify|@fastify\/[^/]+)\/|\/dist\/src\/server\//;
const ENGINES = /\/node_modules\/(node-llama-cpp|onnxruntime-node|onnxruntime-common|@huggingface\/transformers|@duckdb\/[^/]+)\//;
const RUNTIME = /\/dist\/src\/runtime\//;
/** The runtime's value parsers, which the settings check their values with (so a setting is refused in a request's words); nothing else of the runtime. */
const RUNTIME_PARSERS = /\/dist\/src\/runtime\/(devices|keep-alive|generation-limit)\.js$/;
const RECORDER = fileURLToPath(new URL('./fixtures/record-loads.js', import.meta.url));

/** The URLs of every module a fresh `node` resolves when it imports `model-manager/<area>`. */
function modulesLoadedBy(area: string): string[] {
  using dir = tempDir();
  const out = join(dir.path, 'loads.txt');
  const run = spawnSync(process.execPath, ['--import', RECORDER, '--input-type=module', '-e', `await import('model-manager/${area}')`], {
    env: { ...process.env, MM_RECORD_LOADS: out }, encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

test('importing one area loads neither the server nor the engines (seen from a fresh process)', () => {
  for (const area of Object.keys(AREAS)) {
    const loaded = modulesLoadedBy(area);
    assert.ok(loaded.some((url) => url.includes(`/dist/src/${area === 'errors' ? 'errors.js' : `${area}/index.js`}`)), `${area}: the recorder saw the import`);
    if (area !== 'server') assert.deepEqual(loaded.filter((url) => SERVER.test(url)), [], `model-manager/${area} loads no server module`);
    assert.deepEqual(loaded.filter((url) => ENGINES.test(url)), [], `model-manager/${area} loads no engine until one is used`);
    const runtimeAllowed = (url: string) => area === 'settings' && RUNTIME_PARSERS.test(url);
    if (area !== 'runtime' && area !== 'server') assert.deepEqual(loaded.filter((url) => RUNTIME.test(url) && !runtimeAllowed(url)), [], `model-manager/${area} loads no runtime module`);
  }
  // The same recorder sees what the server does load: the check above can fail.
  assert.ok(modulesLoadedBy('server').some((url) => SERVER.test(url)));
});
