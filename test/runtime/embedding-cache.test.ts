import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isModelManagerError } from '../../src/errors.js';
import { EmbeddingCache } from '../../src/runtime/embedding-cache.js';
import { tempDir } from '../helpers/tmp.js';

const key = (text: string) => EmbeddingCache.key('org/model', '|', text);

test('the least recently used entry goes first when the cache is full', () => {
  const cache = new EmbeddingCache({ maxEntries: 2 });
  cache.set(key('a'), [1]);
  cache.set(key('b'), [2]);
  assert.deepEqual(cache.get(key('a')), [1]); // a is now the most recent
  cache.set(key('c'), [3]);
  assert.equal(cache.get(key('b')), undefined);
  assert.deepEqual(cache.get(key('a')), [1]);
  assert.deepEqual(cache.get(key('c')), [3]);
  assert.deepEqual({ ...cache.stats(), persistPath: undefined }, { hits: 3, misses: 1, entries: 2, hitRate: 0.75, maxEntries: 2, ttlMs: 3_600_000, persistPath: undefined });
});

test('entries past their TTL are not served', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const cache = new EmbeddingCache({ ttlMs: 1000 });
  cache.set(key('a'), [1]);
  t.mock.timers.tick(999);
  assert.deepEqual(cache.get(key('a')), [1], 'served until its TTL ends');
  t.mock.timers.tick(1);
  assert.equal(cache.has(key('a')), false);
  assert.equal(cache.get(key('a')), undefined);
  assert.equal(cache.stats().entries, 0);
});

test('keys separate models and parameters, and hash the text', () => {
  const a = EmbeddingCache.key('m1', 'mean|', 'hello');
  assert.notEqual(a, EmbeddingCache.key('m2', 'mean|', 'hello'));
  assert.notEqual(a, EmbeddingCache.key('m1', 'cls|', 'hello'));
  assert.ok(!a.includes('hello'));
});

test('a persisted cache is there again after a restart, and a corrupt file is refused, not trusted', async () => {
  using dir = tempDir();
  const persistPath = join(dir.path, 'cache', 'embeddings.json');
  const first = new EmbeddingCache({ persistPath });
  first.set(key('a'), [0.5, 0.25]);
  await first.save();
  const second = new EmbeddingCache({ persistPath });
  assert.equal(await second.load(), 1);
  assert.deepEqual(second.get(key('a')), [0.5, 0.25]);

  writeFileSync(persistPath, '{"version":1,"entries":');
  await assert.rejects(new EmbeddingCache({ persistPath }).load(), (e) => isModelManagerError(e, 'INVALID_FILE'));
  assert.equal(await new EmbeddingCache({ persistPath: join(dir.path, 'absent.json') }).load(), 0);
});

test('a caller changing a vector it got does not change what the cache serves', () => {
  const cache = new EmbeddingCache();
  const stored = [1, 2];
  cache.set(key('a'), stored);
  stored[0] = 99;
  const served = cache.get(key('a'))!;
  served[1] = 42;
  assert.deepEqual(cache.get(key('a')), [1, 2]);
});
