/**
 * A model id never reads as a path, and a registered id is resolved only through its record:
 * what a caller was allowed to run (judged on the record) is what loads.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry, isModelManagerError, validateModel } from '../../src/index.js';
import { resolveModel } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';
import { ggufModel } from '../discovery/harness.js';

test('ids that read as paths are refused with INVALID_METADATA; ids as Hugging Face, Ollama and discovery write them are not', async () => {
  using dir = tempDir();
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry.db') });
  for (const modelId of ['./evil', '../evil', '.', './', '/etc/x', '~/x', '~', 'a/./b', 'a/../b', 'a/.', 'a/..', '-rf', '.hidden/x', 'org/.x', 'org/-x', 'a//b']) {
    await assert.rejects(registry.addModel({ modelId, modelType: 'language_model' }), (e) => isModelManagerError(e, 'INVALID_METADATA') && /modelId/.test(e.message), modelId);
  }
  for (const modelId of ['meta-llama/Llama-3.1-8B-Instruct', 'ollama/llama3:8b', 'ollama/registry.example.com/team/m:q4_0', '_private/x', 'acme/tiny-diffusion/unet', 'x', 'org/name+v2']) {
    assert.equal((await registry.addModel({ modelId, modelType: 'language_model' })).modelId, modelId);
  }
});

test('a registered id runs its record\'s files, even one stored under an id that reads as a path before ids were checked', async () => {
  using dir = tempDir();
  const registered = ggufModel(join(dir.path, 'registered'), 'model');
  // What the id would name as a path relative to the server's working folder: another model.
  ggufModel(join(dir.path, 'evil'), 'model');
  await using registry = await Registry.open({ store: 'sqlite', db: join(dir.path, 'registry.db') });
  // A record an older version let in (the store takes it as given; the registry would refuse it now).
  await registry.store.insert([{ ...validateModel({ modelId: 'legacy', modelType: 'embedding_model', format: 'gguf', localPath: registered, accessLevel: 'admin_only' }), modelId: './evil' }], 'add');
  const cwd = process.cwd();
  process.chdir(dir.path);
  try {
    const resolved = await resolveModel('./evil', { registry });
    assert.deepEqual([resolved.via, resolved.path, resolved.key, resolved.model?.accessLevel], ['registry', registered, './evil', 'admin_only']);
    // A path that is no registered id is still a path.
    assert.equal((await resolveModel('./evil/model.gguf', { registry })).via, 'path');
  } finally {
    process.chdir(cwd);
  }
  // Such a record stays readable and removable; an edit is refused until it is added under a valid id.
  assert.equal((await registry.listModels()).find((m) => m.modelId === './evil')?.localPath, registered);
  await assert.rejects(registry.updateModel('./evil', { description: 'x' }), (e) => isModelManagerError(e, 'INVALID_METADATA'));
  assert.equal(await registry.removeModel('./evil'), true);
});
