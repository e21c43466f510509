/**
 * A model named by its path is found in the registry by an indexed lookup of its localPath,
 * never by listing the whole registry.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry, type ModelFilter, type RegistryStore } from '../../src/registry/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { resolveModel } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/tmp.js';

/** The store, with every filter it is asked to list by written down. */
function watchLists(store: RegistryStore, lists: ModelFilter[]): RegistryStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'list') {
        return (filter: ModelFilter) => {
          lists.push(filter);
          return target.list(filter);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('a model named by its path is looked up by localPath, not by listing the registry', async () => {
  using dir = tempDir();
  const folders = ['a', 'b', 'c'].map((name) => join(dir.path, 'models', name));
  for (const folder of folders) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'model.gguf'), 'GGUF');
  }
  const lists: ModelFilter[] = [];
  await using registry = await Registry.open({ instance: watchLists(await SqliteStore.open(join(dir.path, 'registry.db')), lists) });
  await registry.addModels(folders.map((localPath, i) => ({ modelId: `test/model-${i}`, modelType: 'embedding_model', format: 'gguf', localPath })));

  const found = await resolveModel(folders[1]!, { registry });
  assert.deepEqual([found.key, found.via, found.model?.modelId], ['test/model-1', 'path', 'test/model-1']);
  const unregistered = join(dir.path, 'models');
  assert.equal((await resolveModel(unregistered, { registry })).key, unregistered, 'a path nobody registered is its own key');
  assert.deepEqual(lists.map((f) => f.localPath), [folders[1], unregistered], 'each lookup asks for one path');
});
