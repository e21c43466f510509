/**
 * What a caller who is no admin may see is counted, summed and paged by the store's filter:
 * `/metrics`, `/api/stats` and `/api/models` answer from the store's indexes, without reading the
 * records of the whole registry per request, and still count no model hidden from the caller.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ApiKeys, Registry, createApiKey, createServer, type ModelMetadata, type RegistryStore } from '../../src/index.js';
import { SqliteStore } from '../../src/registry/stores/sqlite.js';
import { tempDir } from '../helpers/tmp.js';
import { model } from './harness.js';

const reader = createApiKey({ user: 'rita', role: 'reader', groups: ['research'] });
const admin = createApiKey({ user: 'ada', role: 'admin' });
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/** The store, with every record its list and search calls hand out written down. */
function recording(store: RegistryStore): { store: RegistryStore; read: ModelMetadata[] } {
  const read: ModelMetadata[] = [];
  const watched = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (key === 'list') return async (...args: Parameters<RegistryStore['list']>) => { const out = await target.list(...args); read.push(...out); return out; };
      if (key === 'search') return async (...args: Parameters<RegistryStore['search']>) => { const out = await target.search(...args); read.push(...out.map((h) => h.model)); return out; };
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: watched, read };
}

test('/metrics, /api/stats and /api/models count and page what a reader may see without reading every record', async () => {
  using tmp = tempDir();
  const { store, read } = recording(await SqliteStore.open(join(tmp.path, 'registry.db')));
  await using registry = await Registry.open({ instance: store });
  await registry.addModels([
    ...Array.from({ length: 6 }, (_, i) => model(`pub/m${i}`, { parameterCount: 10 })),
    model('lab/for-research', { accessLevel: 'restricted', groups: ['research'], parameterCount: 100, format: 'onnx' }),
    model('lab/for-legal', { accessLevel: 'restricted', groups: ['legal'], parameterCount: 1000 }),
    model('adm/secret', { accessLevel: 'admin_only', parameterCount: 10_000, format: 'onnx' }),
  ]);
  await registry.updateModel('adm/secret', { description: 'a second version' });
  await registry.deleteModel('pub/m5');
  const app = await createServer({ registry, auth: ApiKeys.fromRecords([reader.record, admin.record]) });
  try {
    const scrape = async (key: string) => Number(/^mm_registry_models (\S+)$/m.exec((await app.inject({ url: '/metrics', headers: as(key) })).body)?.[1]);
    read.length = 0;
    assert.equal(await scrape(reader.key), 6, 'five public models and the restricted one of its group');
    assert.equal(await scrape(admin.key), 8);

    const stats = (await app.inject({ url: '/api/stats', headers: as(reader.key) })).json();
    assert.deepEqual([stats.totalModels, stats.totalVersions, stats.totalParameters, stats.byFormat], [6, 6, 5 * 10 + 100, { gguf: 5, onnx: 1 }]);
    // The deleted ones are read to leave them out (soft-delete.ts); nothing else is.
    assert.deepEqual([...new Set(read.map((m) => m.modelId))], ['pub/m5'], 'no record but a deleted one was read to count them');
    read.length = 0;

    const page = (await app.inject({ url: '/api/models?limit=2', headers: as(reader.key) })).json();
    assert.deepEqual([page.total, page.models.map((m: ModelMetadata) => m.modelId)], [6, ['lab/for-research', 'pub/m0']]);
    assert.deepEqual([...new Set(read.map((m) => m.modelId))].sort(), ['lab/for-research', 'pub/m0', 'pub/m5'], 'the page, and the deleted one to leave out');
  } finally {
    await app.close();
  }
});
