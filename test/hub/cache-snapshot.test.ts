/**
 * One rule for which snapshot of a cached repo is read: the import, the runtime and discovery
 * agree, whatever the cache looks like.
 */
import assert from 'node:assert/strict';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Discovery, Registry, findCachedSnapshot, importFromHuggingFace, loadConfig, resolveModel } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { llamaTensors, safetensorsFile, TINY_LLAMA_CONFIG, writeHfCache } from './model-files.js';

const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);
const config = (hidden: number) => JSON.stringify({ architectures: ['BertModel'], model_type: 'bert', hidden_size: hidden, num_hidden_layers: 2, num_attention_heads: 2, vocab_size: 256 });

/** A repo with two snapshots, the newer one written last, and refs/main as `ref` leaves it. */
function twoSnapshots(cacheDir: string, ref: 'none' | 'dangling' | 'old'): void {
  for (const [sha, hidden] of [[OLD, 32], [NEW, 64]] as const) {
    writeHfCache(cacheDir, 'acme/two', sha, { 'config.json': config(hidden), 'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)) });
  }
  const repo = join(cacheDir, 'models--acme--two');
  utimesSync(join(repo, 'snapshots', OLD), new Date('2024-01-01'), new Date('2024-01-01'));
  utimesSync(join(repo, 'snapshots', NEW), new Date('2025-01-01'), new Date('2025-01-01'));
  if (ref === 'none') rmSync(join(repo, 'refs'), { recursive: true });
  if (ref === 'dangling') writeFileSync(join(repo, 'refs', 'main'), 'c'.repeat(40));
  if (ref === 'old') writeFileSync(join(repo, 'refs', 'main'), OLD);
}

for (const [ref, expected] of [['none', NEW], ['dangling', NEW], ['old', OLD]] as const) {
  test(`import, runtime and discovery read the same snapshot (refs/main: ${ref})`, async () => {
    using tmp = tempDir();
    const cfg = loadConfig({ MM_HOME: join(tmp.path, 'mm'), HF_HUB_CACHE: join(tmp.path, 'hub'), HF_HUB_OFFLINE: '1', HF_HOME: join(tmp.path, 'none'), OLLAMA_MODELS: join(tmp.path, 'none'), LMSTUDIO_MODELS: join(tmp.path, 'none') });
    twoSnapshots(cfg.hf.hubCache, ref);
    const snapshot = join(cfg.hf.hubCache, 'models--acme--two', 'snapshots', expected);
    assert.equal(findCachedSnapshot('acme/two', { cacheDir: cfg.hf.hubCache })?.path, snapshot);

    await using registry = await Registry.open({ config: cfg });
    const imported = await importFromHuggingFace(registry, 'acme/two', { config: cfg });
    assert.equal(imported.location, snapshot);
    assert.equal(imported.model.huggingfaceConfig?.hidden_size, expected === NEW ? 64 : 32);

    assert.equal((await resolveModel('acme/two', { hubCache: cfg.hf.hubCache })).path, snapshot);

    await using scanned = await Registry.open({ store: 'sqlite', db: join(tmp.path, 'scan.db') });
    await using discovery = await Discovery.create({ registry: scanned, config: cfg });
    const report = await discovery.refresh({ roots: [cfg.hf.hubCache] });
    const found = await scanned.getModel('acme/two');
    assert.ok(found, JSON.stringify(report.warnings));
    assert.ok(found?.localPath?.startsWith(snapshot), `discovery read ${found?.localPath}, not ${snapshot}`);
  });
}

test('a revision that is not main names only its own snapshot, never the newest', () => {
  using tmp = tempDir();
  twoSnapshots(tmp.path, 'old');
  assert.equal(findCachedSnapshot('acme/two', { cacheDir: tmp.path, revision: 'v2' }), undefined);
  assert.equal(findCachedSnapshot('acme/two', { cacheDir: tmp.path, revision: NEW })?.commit, NEW);
  assert.equal(findCachedSnapshot('acme/two', { cacheDir: tmp.path, revision: '../../etc' }), undefined);
});
