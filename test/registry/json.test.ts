import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import lockfile from 'proper-lockfile';
import { Registry, isModelManagerError } from '../../src/index.js';
import { JsonStore } from '../../src/registry/stores/json.js';
import { tempDir } from '../helpers/tmp.js';
import { sampleModel } from './samples.js';
import { runStoreContract } from './store-contract.js';

runStoreContract({
  name: 'json',
  kind: 'json',
  newLocation: (dir) => `${dir}/registry.json`,
  open: (path) => JsonStore.open(path),
  writeForeign: (path) => writeFile(path, `${JSON.stringify({ name: 'my-app', version: '1.0.0', models: [] }, null, 2)}\n`),
});

describe('json store file', () => {
  it('is readable JSON with one line per model, and sees changes made by another writer', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.json`;
    await using a = await Registry.open({ instance: await JsonStore.open(path) });
    await using b = await Registry.open({ instance: await JsonStore.open(path) });
    await a.addModels([sampleModel(1), sampleModel(2)]);
    assert.equal((await b.getModel('org1/model-1'))?.modelName, 'model-1', 'b re-reads the file a replaced');
    await b.updateModel('org1/model-1', { description: 'from b' });
    assert.equal((await a.getModel('org1/model-1'))?.description, 'from b');
    const text = readFileSync(path, 'utf8');
    const doc = JSON.parse(text) as { format: string; models: Record<string, unknown>; versions: Record<string, unknown[]> };
    assert.equal(doc.format, 'model-manager/registry');
    assert.deepEqual(Object.keys(doc.models).sort(), ['org1/model-1', 'org2/model-2']);
    assert.equal(doc.versions['org1/model-1']?.length, 2);
    assert.equal(text.split('\n').filter((line) => line.includes('"modelId":"org1/model-1"')).length, 2, 'current record + version 1');
  });

  it('refuses to write over a file that was damaged while open, and leaves it as it is', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.json`;
    await using registry = await Registry.open({ instance: await JsonStore.open(path) });
    await registry.addModel(sampleModel(1));
    const truncated = readFileSync(path, 'utf8').slice(0, 120);
    writeFileSync(path, truncated);
    await assert.rejects(registry.addModel(sampleModel(2)), (e) => isModelManagerError(e, 'STORE_CORRUPT'));
    await assert.rejects(registry.getModel('org1/model-1'), (e) => isModelManagerError(e, 'STORE_CORRUPT'));
    assert.equal(readFileSync(path, 'utf8'), truncated);
  });

  it('removes temp files of writers that died mid-write, and only those', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.json`;
    await (await JsonStore.open(path)).close();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const leftovers = [`.registry.json.${dead}.0123abcd.tmp`, `.registry.json.${process.pid}.0123abcd.tmp`, '.other.json.1.0123abcd.tmp'];
    for (const name of leftovers) writeFileSync(`${dir.path}/${name}`, '{');
    await (await JsonStore.open(path)).close();
    assert.deepEqual(readdirSync(dir.path).sort(), ['.other.json.1.0123abcd.tmp', `.registry.json.${process.pid}.0123abcd.tmp`, 'registry.json']);
  });

  it('refuses a registry file of a newer format', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.json`;
    writeFileSync(path, JSON.stringify({ format: 'model-manager/registry', formatVersion: 99, models: {}, versions: {}, cache: {} }));
    await assert.rejects(JsonStore.open(path), (e) => isModelManagerError(e, 'STORE_FOREIGN') && /Upgrade/.test(e.message));
  });

  it('fails with STORE_LOCKED when another writer holds the lock too long', async () => {
    using dir = tempDir();
    const path = `${dir.path}/registry.json`;
    await using registry = await Registry.open({ instance: await JsonStore.open(path, { lockTimeoutMs: 200 }) });
    const release = await lockfile.lock(path, { realpath: false });
    try {
      await assert.rejects(registry.addModel(sampleModel(1)), (e) => isModelManagerError(e, 'STORE_LOCKED'));
    } finally {
      await release();
    }
    await registry.addModel(sampleModel(1));
    assert.equal(await registry.countModels(), 1);
  });
});
