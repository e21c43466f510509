/**
 * Contract cases on single records: add/get/update/remove, validation, versions, rollback,
 * aliases, metrics and the cache of computed values; each case on a fresh store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isModelManagerError, type ModelManagerError } from '../../src/index.js';
import { freshStore, type StoreContractOptions } from './fresh-store.js';
import { sampleModel } from './samples.js';

/** Asserts the promise fails with INVALID_METADATA naming `field`. */
async function rejectsNaming(promise: Promise<unknown>, field: string): Promise<void> {
  await assert.rejects(promise, (error: ModelManagerError) => {
    assert.ok(isModelManagerError(error, 'INVALID_METADATA'), `expected INVALID_METADATA, got ${String(error)}`);
    const fields = (error.details.issues as { field: string }[]).map((i) => i.field);
    assert.ok(fields.includes(field), `issues name ${fields.join(', ')}, not ${field}`);
    assert.match(error.message, new RegExp(field.replace('.', '\\.')));
    return true;
  });
}

export function recordCases(options: StoreContractOptions): void {
  describe('records', () => {
    it('adds, gets and refuses duplicates', async () => {
      await using store = await freshStore(options);
      const { registry } = store;
      const added = await registry.addModel(sampleModel(1));
      assert.equal(added.modelName, 'model-1');
      const got = await registry.getModel('org1/model-1');
      assert.equal(got?.architecture, 'LlamaForCausalLM');
      assert.deepEqual(got?.inputs, [{ name: 'text', dataType: 'TEXT', dtype: 'float32', description: '', optional: false }]);
      assert.ok(got?.createdAt && got.updatedAt);
      assert.equal(await registry.getModel('nope/none'), undefined);
      await assert.rejects(registry.addModel(sampleModel(1)), (e) => isModelManagerError(e, 'MODEL_EXISTS'));
    });

    it('adds a batch all or none', async () => {
      await using store = await freshStore(options, [sampleModel(1)]);
      const { registry } = store;
      await assert.rejects(registry.addModels([sampleModel(2), sampleModel(1)]), (e) => isModelManagerError(e, 'MODEL_EXISTS'));
      assert.equal(await registry.getModel('org2/model-2'), undefined, 'the batch was refused as a whole');
      await registry.addModels([sampleModel(2), sampleModel(3)]);
      assert.equal(await registry.countModels(), 3);
    });

    it('refuses invalid records naming the field, and stores nothing', async () => {
      await using store = await freshStore(options, [sampleModel(1), sampleModel(2), sampleModel(3)]);
      const { registry } = store;
      await rejectsNaming(registry.addModel(sampleModel(10, { parameterCount: -5 })), 'parameterCount');
      await rejectsNaming(registry.addModel(sampleModel(11, { modelId: 'bad id with spaces' })), 'modelId');
      await rejectsNaming(registry.addModel({ ...sampleModel(12), modelType: undefined } as never), 'modelType');
      await rejectsNaming(registry.addModel(sampleModel(13, { inputs: [{ name: 'x', dataType: 'SMELL' as never }] })), 'inputs.0.dataType');
      await rejectsNaming(registry.addModel({ ...sampleModel(14), colour: 'red' } as never), 'colour');
      await rejectsNaming(registry.updateModel('org1/model-1', { contextLength: 'long' }), 'contextLength');
      assert.equal(await registry.countModels(), 3);
      assert.equal((await registry.listVersions('org1/model-1')).length, 1, 'a refused update makes no version');
    });

    it('updates with a merge patch (null removes a field) and removes', async () => {
      await using store = await freshStore(options, [sampleModel(2), sampleModel(3)]);
      const { registry } = store;
      const updated = await registry.updateModel('org2/model-2', { description: 'patched', format: null, tags: ['x'] });
      assert.equal(updated.description, 'patched');
      assert.equal((await registry.getModel('org2/model-2'))?.format, undefined);
      assert.deepEqual((await registry.getModel('org2/model-2'))?.tags, ['x']);
      await assert.rejects(registry.updateModel('nope/none', { description: 'x' }), (e) => isModelManagerError(e, 'MODEL_NOT_FOUND'));
      await assert.rejects(registry.updateModel('org2/model-2', { modelId: 'other/id' }), (e) => isModelManagerError(e, 'INVALID_METADATA'));
      await registry.setCached('org3/model-3', 'k', 1);
      assert.equal(await registry.removeModel('org3/model-3'), true);
      assert.equal(await registry.removeModel('org3/model-3'), false);
      assert.equal(await registry.getModel('org3/model-3'), undefined);
      assert.equal(await registry.getCached('org3/model-3', 'k'), undefined, 'its cache went with it');
      await registry.addModel(sampleModel(3));
      assert.deepEqual((await registry.store.listVersions('org3/model-3')).map((v) => v.version), [1], 'a re-added model starts over');
    });

    it('versions every change, rolls back, and reads aliases', async () => {
      await using store = await freshStore(options, [sampleModel(1)]);
      const { registry } = store;
      const id = 'org1/model-1';
      await registry.updateModel(id, { description: 'second' });
      await registry.updateModel(id, { description: 'third' });
      const versions = await registry.listVersions(id);
      assert.deepEqual(versions.map((v) => [v.version, v.change]), [[1, 'add'], [2, 'update'], [3, 'update']]);
      assert.ok(versions.every((v) => v.modelId === id && !Number.isNaN(Date.parse(v.createdAt))));
      assert.equal((await registry.getVersion(id, 2)).description, 'second');
      await assert.rejects(registry.getVersion(id, 99), (e) => isModelManagerError(e, 'VERSION_NOT_FOUND'));

      await registry.setAlias(id, 'production', 2);
      assert.equal((await registry.getModel(`${id}@production`))?.description, 'second');
      assert.equal((await registry.getModel(`${id}@1`))?.description, 'sample model number 1');
      assert.deepEqual(await registry.getModel(`${id}@4`), await registry.getModel(id), 'the current version reads as the model');
      assert.equal(await registry.getModel(`${id}@staging`), undefined);

      await registry.rollback(id, 1);
      const now = await registry.getModel(id);
      assert.equal(now?.description, 'sample model number 1');
      assert.deepEqual(now?.aliases, { production: 2 }, 'a rollback keeps the aliases of today');
      const after = await registry.listVersions(id);
      assert.deepEqual(after.slice(-1).map((v) => [v.version, v.change]), [[5, 'rollback to 1']]);
      await registry.rollback(id, 'production');
      assert.equal((await registry.getModel(id))?.description, 'second');
      await assert.rejects(registry.rollback(id, 'canary'), (e) => isModelManagerError(e, 'VERSION_NOT_FOUND'));
    });

    it('keeps quality and performance metrics', async () => {
      await using store = await freshStore(options, [sampleModel(2)]);
      const { registry } = store;
      const id = 'org2/model-2';
      await registry.addQualityMetric({ modelId: id, name: 'MMLU', value: 0.6, shots: 5 });
      await registry.addQualityMetric({ modelId: id, name: 'MMLU', value: 0.625, shots: 5, source: 'paper' });
      await registry.addQualityMetric({ modelId: id, name: 'MMLU', value: 0.5, shots: 0 });
      await registry.addPerformanceMetrics(id, { tokensPerSecond: 42.5 });
      const model = await registry.getModel(id);
      const mmlu = model?.qualityMetrics.map((q) => [q.name, q.value, q.shots, q.source]);
      assert.deepEqual(mmlu, [['MMLU', 0.625, 5, 'paper'], ['MMLU', 0.5, 0, undefined]], 'same name and shots replaces');
      assert.deepEqual(model?.performanceMetrics, { tokensPerSecond: 42.5 });
      await assert.rejects(registry.addQualityMetric({ modelId: 'nope/none', name: 'MMLU', value: 1 }), (e) => isModelManagerError(e, 'MODEL_NOT_FOUND'));
    });

    it('records what the runtime measured in the current version, without a new one', async () => {
      await using store = await freshStore(options);
      const { registry } = store;
      const id = 'org6/model-20';
      await registry.addModel(sampleModel(20));
      await registry.updateModel(id, { description: 'edited' });
      const measured = { loadTimeMs: 120, memoryBytes: 4096, device: 'cpu', backend: 'llama-cpp', at: '2026-01-01T00:00:00.000Z' };
      await registry.recordMeasured(id, measured);
      await registry.recordMeasured(id, { ...measured, throughput: 50, throughputUnit: 'tokens/s' });
      assert.deepEqual((await registry.listVersions(id)).map((v) => [v.version, v.change]), [[1, 'add'], [2, 'update']]);
      assert.equal((await registry.getModel(id))?.measured?.throughput, 50);
      assert.equal((await registry.getVersion(id, 2)).measured?.throughput, 50, 'the current version reads the same record');
      assert.equal((await registry.getVersion(id, 1)).measured, undefined, 'older versions are as they were');
      assert.equal((await registry.listModels()).find((m) => m.modelId === id)?.measured?.loadTimeMs, 120);
      await registry.updateModel(id, { description: 'again' });
      assert.equal((await registry.getModel(id))?.measured?.loadTimeMs, 120, 'a later edit keeps the measurements');
      await assert.rejects(registry.recordMeasured('nope/none', measured), (e) => isModelManagerError(e, 'MODEL_NOT_FOUND'));
    });

    it('caches values with a TTL and clears one model or all', async () => {
      await using store = await freshStore(options, [sampleModel(1), sampleModel(2)]);
      const { registry } = store;
      await registry.setCached('org1/model-1', 'estimate', { totalBytes: 123, list: [1, 2] });
      await registry.setCached('org1/model-1', 'stale', 'gone', 0);
      await registry.setCached('org2/model-2', 'estimate', 7);
      await registry.setCached('org2/model-2', 'other', 'x', 60_000);
      assert.deepEqual(await registry.getCached('org1/model-1', 'estimate'), { totalBytes: 123, list: [1, 2] });
      assert.equal(await registry.getCached('org1/model-1', 'stale'), undefined, 'an expired value is not returned');
      assert.equal(await registry.getCached('org1/model-1', 'missing'), undefined);
      await registry.setCached('org1/model-1', 'estimate', 'replaced');
      assert.equal(await registry.getCached('org1/model-1', 'estimate'), 'replaced');

      assert.equal(await registry.clearCache('org2/model-2'), 2);
      assert.equal(await registry.getCached('org2/model-2', 'estimate'), undefined);
      assert.equal(await registry.getCached('org1/model-1', 'estimate'), 'replaced', 'clearing one model leaves the others');
      assert.equal(await registry.clearCache(), 2);
      assert.equal(await registry.getCached('org1/model-1', 'estimate'), undefined);
      assert.equal(await registry.clearCache(), 0);
    });

    it('keeps everything across a reopen', async () => {
      await using store = await freshStore(options, [sampleModel(1), sampleModel(2)]);
      await store.registry.updateModel('org1/model-1', { description: 'second' });
      await store.registry.setAlias('org1/model-1', 'production', 1);
      await store.registry.addQualityMetric({ modelId: 'org2/model-2', name: 'MMLU', value: 0.5, shots: 5 });
      await store.registry.recordMeasured('org2/model-2', { loadTimeMs: 7, memoryBytes: 1, device: 'cpu', at: '2026-01-01T00:00:00.000Z' });
      await store.registry.setCached('org1/model-1', 'kept', [1]);
      const registry = await store.reopen();
      assert.equal((await registry.getModel('org1/model-1'))?.description, 'second');
      assert.equal((await registry.getModel('org1/model-1@production'))?.description, 'sample model number 1');
      assert.deepEqual((await registry.listVersions('org1/model-1')).map((v) => v.change), ['add', 'update', 'alias production -> 1']);
      assert.deepEqual(await registry.getCached('org1/model-1', 'kept'), [1]);
      const other = await registry.getModel('org2/model-2');
      assert.deepEqual(other?.qualityMetrics.map((q) => [q.name, q.value, q.shots]), [['MMLU', 0.5, 5]]);
      assert.equal(other?.measured?.loadTimeMs, 7);
      assert.equal((await registry.getStats()).totalVersions, 5);
    });
  });
}
