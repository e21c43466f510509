/**
 * Records and merge patches nested deeper than any real config are refused with INVALID_METADATA
 * before anything recurses over them (a 10,000-deep `custom` overflowed the stack), by the
 * library and by `mm add` / `mm update`; the store is left as it was.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry, mergePatch, validateModel } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';

/** `{a: {a: ... 1}}`, `depth` objects deep, built without recursion. */
function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { a: 1 };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

const record = (extra: Record<string, unknown>) => ({ modelId: 'org/deep', modelType: 'decoder_only', ...extra });

test('the library refuses deep records and patches with INVALID_METADATA, naming the field', async () => {
  using dir = tempDir();
  await using registry = await Registry.open({ instance: await SqliteStore.open(join(dir.path, 'registry.db')) });
  await registry.addModel(record({ modelId: 'org/open' }));
  for (const depth of [65, 10_000]) {
    for (const field of ['custom', 'huggingfaceConfig']) {
      assert.throws(() => validateModel(record({ [field]: nested(depth) })), (e: { code?: string; details?: { issues?: { field: string }[] } }) =>
        e.code === 'INVALID_METADATA' && e.details?.issues?.[0]?.field === field);
      await assert.rejects(registry.addModel(record({ [field]: nested(depth) })), { code: 'INVALID_METADATA' });
      await assert.rejects(registry.updateModel('org/open', { [field]: nested(depth) }), { code: 'INVALID_METADATA' });
      assert.throws(() => mergePatch({}, { [field]: nested(depth) }), { code: 'INVALID_METADATA' });
    }
  }
  assert.deepEqual((await registry.listModels()).map((m) => m.modelId), ['org/open']);
  assert.equal((await registry.listVersions('org/open')).length, 1);
  assert.equal((await registry.addModel(record({ custom: nested(60) }))).modelId, 'org/deep', '60 levels are fine');
});

test('mm add and mm update say so in one line, with the code', () => {
  using home = tempDir();
  const env = { ...process.env, MM_HOME: home.path };
  const mm = (...args: string[]) => spawnSync(process.execPath, ['bin/mm.js', ...args], { env, encoding: 'utf8' });
  const deep = join(home.path, 'deep.json');
  // Written as text: JSON.stringify itself cannot write 10,000 levels.
  const deepText = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  writeFileSync(deep, `{"modelId":"org/deep","modelType":"decoder_only","custom":${deepText}}`);
  const added = mm('add', deep);
  assert.equal(added.status, 1, added.stderr);
  assert.match(added.stderr, /^mm: .*nested more than 64 levels.* \[INVALID_METADATA\]\n$/);

  writeFileSync(join(home.path, 'ok.json'), JSON.stringify(record({ modelId: 'org/open' })));
  assert.equal(mm('add', join(home.path, 'ok.json')).status, 0);
  writeFileSync(join(home.path, 'patch.json'), `{"huggingfaceConfig":${deepText}}`);
  const updated = mm('update', 'org/open', join(home.path, 'patch.json'));
  assert.equal(updated.status, 1, updated.stderr);
  assert.match(updated.stderr, /^mm: .*nested more than 64 levels.* \[INVALID_METADATA\]\n$/);
});
