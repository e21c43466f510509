/**
 * `mm sync --static`: the static model definitions that ship with Model Manager (the seed's
 * static MODEL_DICT) are registered, sized from their configs, with no download; syncing again
 * changes nothing, and what a person did to an entry stays.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry, STATIC_MODELS, syncStaticModels, type ModelMetadata, type StaticSyncResult } from '../../src/index.js';
import { mm } from '../discovery/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** Published figures, recorded independently of the code (test/fixtures/hf/published.json). */
const PUBLISHED = (JSON.parse(readFileSync(new URL('../../../test/fixtures/hf/published.json', import.meta.url), 'utf8')) as {
  models: { id: string; published: number; kvBytesPerTokenFp16: number; attention: string }[];
}).models;

function results(base: string, ...args: string[]): StaticSyncResult[] {
  const run = mm(base, 'sync', '--static', ...args);
  assert.equal(run.status, 0, run.stderr);
  return (run.json as { results: StaticSyncResult[] }).results;
}

test('mm sync --static registers the well-known models, sized, and a second sync changes nothing', () => {
  using base = tempDir();
  // A model the user imported is not replaced by its static definition.
  const own = join(base.path, 'own.json');
  const mistral = 'mistralai/Mistral-7B-v0.1';
  const added = mm(base.path, 'add', writeJson(own, [{ modelId: mistral, modelType: 'decoder_only', description: 'my own entry' }]));
  assert.equal(added.status, 0, added.stderr);

  const first = results(base.path);
  assert.equal(first.length, STATIC_MODELS.length);
  assert.deepEqual(first.find((r) => r.modelId === mistral)?.action, 'skipped');
  assert.ok(first.filter((r) => r.modelId !== mistral).every((r) => r.action === 'added'));

  const listed = (mm(base.path, 'list', '--source', 'static').json as { models: ModelMetadata[] }).models;
  assert.equal(listed.length, STATIC_MODELS.length - 1);
  for (const m of listed) {
    const published = PUBLISHED.find((p) => p.id === m.modelId);
    assert.ok(published, `${m.modelId} has a published figure`);
    assert.ok(Math.abs(m.parameterCount! - published.published) / published.published < 0.02, `${m.modelId}: parameters within 2% of the published ${published.published}`);
    assert.equal(m.attentionType, published.attention);
    assert.equal(m.memoryEstimate?.kvCacheBytesPerToken, published.kvBytesPerTokenFp16, `${m.modelId}: fp16 KV cache per token`);
  }
  assert.equal((mm(base.path, 'show', mistral).json as ModelMetadata).description, 'my own entry');

  // What a person adds stays; deleting one keeps it deleted.
  assert.equal(mm(base.path, 'metric', 'google/gemma-2b', 'MMLU', '0.42', '--shots', '5').status, 0);
  assert.equal(mm(base.path, 'delete', 'microsoft/phi-2').status, 0);
  const second = results(base.path);
  assert.deepEqual(second.find((r) => r.modelId === 'microsoft/phi-2')?.action, 'skipped');
  assert.ok(second.filter((r) => r.modelId !== mistral && r.modelId !== 'microsoft/phi-2').every((r) => r.action === 'unchanged'));
  const gemma = mm(base.path, 'versions', 'google/gemma-2b').json as { versions: unknown[] };
  assert.equal(gemma.versions.length, 2, 'the add and the metric: the second sync made no version');
  assert.equal((mm(base.path, 'show', 'google/gemma-2b').json as ModelMetadata).qualityMetrics[0]?.value, 0.42);
});

test('a changed static definition makes a new version and keeps what a person added', async () => {
  using base = tempDir();
  await using registry = await Registry.open({ store: 'sqlite', db: join(base.path, 'registry.db') });
  const definition = STATIC_MODELS.find((d) => d.modelId === 'meta-llama/Llama-3.1-8B')!;
  assert.deepEqual(await syncStaticModels(registry, [definition]), [{ modelId: definition.modelId, action: 'added' }]);
  await registry.updateModel(definition.modelId, { tags: ['mine'], accessLevel: 'restricted', groups: ['lab'] });

  // A later release that publishes a longer context.
  const longer = { ...definition, config: { ...definition.config, max_position_embeddings: 262_144 } };
  assert.deepEqual(await syncStaticModels(registry, [longer]), [{ modelId: definition.modelId, action: 'updated' }]);
  const m = await registry.requireModel(definition.modelId);
  assert.equal(m.contextLength, 262_144);
  assert.deepEqual([m.tags, m.accessLevel, m.groups, m.source], [['mine'], 'restricted', ['lab'], 'static']);
  assert.equal((await registry.listVersions(definition.modelId)).length, 3);
});

function writeJson(path: string, value: unknown): string {
  writeFileSync(path, JSON.stringify(value));
  return path;
}

test('a changed static definition leaves the fields a person edited, and updates those they did not', async () => {
  using base = tempDir();
  await using registry = await Registry.open({ store: 'sqlite', db: join(base.path, 'registry.db') });
  const definition = STATIC_MODELS.find((d) => d.modelId === 'meta-llama/Llama-3.1-8B')!;
  await syncStaticModels(registry, [definition]);
  const edit = { modelType: 'multimodal', capabilities: ['chat', 'tool-use'], contextLength: 100_000 };
  await registry.updateModel(definition.modelId, edit);

  const longer = { ...definition, config: { ...definition.config, max_position_embeddings: 262_144, num_key_value_heads: 4 } };
  assert.deepEqual(await syncStaticModels(registry, [longer]), [{ modelId: definition.modelId, action: 'updated' }]);
  const m = await registry.requireModel(definition.modelId);
  assert.deepEqual([m.modelType, m.capabilities, m.contextLength], [edit.modelType, edit.capabilities, edit.contextLength], 'the person\'s values stay');
  assert.equal(m.memoryEstimate?.kvCacheBytesPerToken, 2 * 32 * 4 * 128 * 2, 'the KV cache follows the definition: 4 KV heads now');
  assert.deepEqual(m.huggingfaceConfig, longer.config);

  // All a definition changes is what the person set: nothing to write, no version.
  const again = { ...longer, config: { ...longer.config, max_position_embeddings: 524_288 } };
  await registry.updateModel(definition.modelId, { huggingfaceConfig: again.config });
  const versions = (await registry.listVersions(definition.modelId)).length;
  assert.deepEqual(await syncStaticModels(registry, [{ ...again, config: { ...again.config, max_position_embeddings: 1_048_576 } }]), [{ modelId: definition.modelId, action: 'unchanged' }]);
  assert.equal((await registry.listVersions(definition.modelId)).length, versions);
});
