/**
 * `mm estimate` sizes a model the one way the scan does, whether it is named by registry id, by
 * its folder or by its file; a registered model's analysis is the seed's cache of computed values.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MemoryEstimate } from '../../src/index.js';
import { mm, mmWithEnv } from '../discovery/cli.js';
import { llamaGgufMetadata, llamaTensors, writeGguf } from '../discovery/formats-writer.js';
import { tempDir } from '../helpers/tmp.js';

interface Estimate extends MemoryEstimate {
  modelId: string;
  from: string;
  cached: boolean;
}

function estimate(base: string, ...args: string[]): Estimate {
  const run = mm(base, 'estimate', ...args);
  assert.equal(run.status, 0, run.stderr);
  return run.json as Estimate;
}

/** A GGUF model without config.json: only its header tells layers, KV heads and head size. */
function scannedGguf(base: string): { id: string; folder: string; file: string; stored: MemoryEstimate } {
  const folder = join(base, 'models', 'lab');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'tiny.gguf');
  writeGguf(file, llamaGgufMetadata({ name: 'tiny', layers: 2, heads: 8, kvHeads: 2, context: 2048 }), llamaTensors());
  const scan = mm(base, 'scan', join(base, 'models'));
  assert.equal(scan.status, 0, scan.stderr);
  const shown = mm(base, 'show', 'lab/tiny');
  assert.equal(shown.status, 0, shown.stderr);
  return { id: 'lab/tiny', folder, file, stored: (shown.json as { memoryEstimate: MemoryEstimate }).memoryEstimate };
}

test('a GGUF model is sized alike by registry id, by its file and by its folder, as the scan stored it', () => {
  using base = tempDir();
  const { id, folder, file, stored } = scannedGguf(base.path);
  // 2 x layers x KV heads x head size (64 hidden / 8 heads) x 2 bytes of fp16.
  const kvPerToken = 2 * 2 * 2 * (64 / 8) * 2;
  assert.equal(stored.kvCacheBytesPerToken, kvPerToken, 'the scan sized the KV cache from the header');

  const byId = estimate(base.path, id);
  const byFile = estimate(base.path, file);
  const byFolder = estimate(base.path, folder);
  assert.deepEqual([byId.from, byFile.from, byFolder.from], ['registry', 'local', 'local']);
  for (const e of [byId, byFile, byFolder]) {
    assert.equal(e.kvCacheBytesPerToken, kvPerToken, `${e.from}: KV cache per token`);
    assert.equal(e.weightsBytes, stored.weightsBytes, `${e.from}: weights are the file's bytes`);
    assert.equal(e.totalBytes, stored.totalBytes, `${e.from}: the total the scan stored`);
    assert.equal(e.method, stored.method);
  }
  const longer = estimate(base.path, file, '--context', '8K');
  assert.equal(longer.kvCacheBytes, kvPerToken * 8192);
});

test('an Ollama model (a manifest beside its GGUF blob) is sized by registry id and by its manifest as the scan stored it', () => {
  using base = tempDir();
  const store = join(base.path, 'ollama');
  mkdirSync(join(store, 'blobs'), { recursive: true });
  const digest = 'a'.repeat(64);
  writeGguf(join(store, 'blobs', `sha256-${digest}`), llamaGgufMetadata({ name: 'tiny', layers: 4, heads: 8, kvHeads: 4 }), llamaTensors({ layers: 4 }));
  const manifest = join(store, 'manifests', 'registry.ollama.ai', 'library', 'tiny', 'latest');
  mkdirSync(join(manifest, '..'), { recursive: true });
  writeFileSync(manifest, JSON.stringify({ schemaVersion: 2, layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}`, size: 1 }] }));
  const env = { OLLAMA_MODELS: store };
  assert.equal(mmWithEnv(base.path, env, 'scan', store).status, 0);
  const listed = (mmWithEnv(base.path, env, 'list').json as { models: { modelId: string; memoryEstimate: MemoryEstimate }[] }).models;
  assert.equal(listed.length, 1);
  const { modelId, memoryEstimate: stored } = listed[0]!;
  assert.equal(stored.kvCacheBytesPerToken, 2 * 4 * 4 * (64 / 8) * 2, 'the scan sized the KV cache from the blob\'s header');
  for (const name of [modelId, manifest]) {
    const run = mmWithEnv(base.path, env, 'estimate', name);
    assert.equal(run.status, 0, run.stderr);
    const e = run.json as Estimate;
    assert.deepEqual([e.kvCacheBytesPerToken, e.weightsBytes, e.totalBytes], [stored.kvCacheBytesPerToken, stored.weightsBytes, stored.totalBytes], name);
    assert.equal(run.stderr, '', 'nothing to warn about');
  }
});

test('a registered model\'s memory analysis is cached per settings until the model changes, and mm clear-cache empties the cache', () => {
  using base = tempDir();
  const { id } = scannedGguf(base.path);

  const first = estimate(base.path, id);
  assert.equal(first.cached, false);
  const again = estimate(base.path, id);
  assert.equal(again.cached, true, 'the same question is answered from the cache');
  assert.equal(again.totalBytes, first.totalBytes);
  const other = estimate(base.path, id, '--context', '1K', '--dtype', 'q8_0');
  assert.equal(other.cached, false, 'other settings are another analysis');
  assert.equal(other.context, 1024);
  assert.equal(estimate(base.path, id, '--context', '1024', '--dtype', 'Q8_0').cached, true, 'the same settings, written otherwise');

  const cleared = mm(base.path, 'clear-cache', id);
  assert.equal(cleared.status, 0, cleared.stderr);
  assert.deepEqual(cleared.json, { modelId: id, removed: 2 });
  assert.equal(estimate(base.path, id).cached, false);

  const updated = mm(base.path, 'update', id, '{"description": "edited"}');
  assert.equal(updated.status, 0, updated.stderr);
  assert.equal(estimate(base.path, id).cached, false, 'a changed model is analysed again');

  assert.equal(estimate(base.path, join(base.path, 'models', 'lab', 'tiny.gguf')).cached, false, 'a path is not a registered model: never cached');
  assert.deepEqual(mm(base.path, 'clear-cache').json, { modelId: null, removed: 2 });
});
