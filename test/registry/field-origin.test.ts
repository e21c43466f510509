/**
 * Who set a stored value, as every machine writer and the registry's history tell it: each
 * writer's notes are known as a machine's, a person's never are, and a value one machine set is
 * free for another while a person's edit stays.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DISCOVERY_CHANGES } from '../../src/discovery/change-notes.js';
import { HUB_CHANGES } from '../../src/hub/change-notes.js';
import { isMachineChange, updateFromFinding } from '../../src/registry/field-origin.js';
import { Registry } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

test('every machine writer\'s notes are a machine\'s; what people do never is', () => {
  const machine = [
    ...Object.values(DISCOVERY_CHANGES),
    HUB_CHANGES.imported('hub'), HUB_CHANGES.imported('cache'), HUB_CHANGES.reimported('local'), HUB_CHANGES.synced('hub'),
    HUB_CHANGES.pulled('acme/tiny', '0123456789abcdef0123456789abcdef01234567'), HUB_CHANGES.staticAdded, HUB_CHANGES.staticChanged,
  ];
  for (const note of machine) assert.equal(isMachineChange(note), true, note);
  const person = [
    'add', 'update', 'delete', 'rollback to 2', 'alias production -> 2', 'metric MMLU', 'performance metrics',
    'registered with given fields', 'import /tmp/models.json', 'import from hub.json', 'sync --static-ish', 'pull request',
  ];
  for (const note of person) assert.equal(isMachineChange(note), false, note);
});

test('a value discovery set is free for an import; a value a person set is not', async () => {
  using tmp = tempDir();
  await using registry = await Registry.open({ store: 'sqlite', db: join(tmp.path, 'registry.db') });
  const id = 'org/model';
  await registry.addModel({ modelId: id, modelType: 'decoder_only', description: 'From the files.', license: 'mit', contextLength: 2048 }, DISCOVERY_CHANGES.added);
  await registry.updateModel(id, { license: 'my-own' });
  const record = { ...(await registry.requireModel(id)), description: 'From the hub.', license: 'apache-2.0', contextLength: 4096 };
  const updated = await updateFromFinding(registry, { record, paths: ['description', 'license', 'contextLength'] }, HUB_CHANGES.reimported('hub'));
  assert.deepEqual([updated?.description, updated?.license, updated?.contextLength], ['From the hub.', 'my-own', 4096]);
  assert.equal(await updateFromFinding(registry, { record, paths: ['license'] }, HUB_CHANGES.reimported('hub')), undefined, 'nothing free to change: no version');
  assert.equal((await registry.listVersions(id)).length, 3);
});
