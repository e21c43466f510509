/**
 * The contract every RegistryStore must keep. Each store's test file calls `runStoreContract`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry, isModelManagerError, type ModelMetadataInput, type RegistryStore } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';

export interface StoreContractOptions {
  name: string;
  /** Opens (or reopens) the store kept at `path`. */
  open: (path: string) => Promise<RegistryStore>;
  /** File name of the store inside a temp folder. */
  file: string;
}

export function sampleModel(i: number, extra: Partial<ModelMetadataInput> = {}): ModelMetadataInput {
  return {
    modelId: `org${i % 7}/model-${i}`,
    modelType: i % 2 ? 'decoder_only' : 'embedding_model',
    architecture: i % 2 ? 'LlamaForCausalLM' : 'BertModel',
    tags: i % 3 ? ['a', 'b'] : ['a'],
    description: `sample model number ${i}`,
    parameterCount: (i + 1) * 1_000_000,
    attentionType: i % 2 ? 'gqa' : 'mha',
    format: i % 2 ? 'gguf' : 'onnx',
    inputs: [{ name: 'text', dataType: 'TEXT' }],
    outputs: [{ name: 'out', dataType: i % 2 ? 'TOKENS' : 'EMBEDDINGS' }],
    ...extra,
  };
}

export function runStoreContract({ name, open, file }: StoreContractOptions): void {
  describe(`store contract: ${name}`, () => {
    const dir = tempDir();
    const path = `${dir.path}/${file}`;
    let registry: Registry;
    before(async () => {
      registry = await Registry.open({ instance: await open(path) });
    });
    after(async () => {
      await registry.close();
      dir[Symbol.dispose]();
    });

    it('adds, gets and refuses duplicates', async () => {
      await registry.addModel(sampleModel(1));
      const got = await registry.getModel('org1/model-1');
      assert.equal(got?.architecture, 'LlamaForCausalLM');
      assert.equal(await registry.getModel('nope/none'), undefined);
      await assert.rejects(registry.addModel(sampleModel(1)), (e) => isModelManagerError(e, 'MODEL_EXISTS'));
    });

    it('versions every change and rolls back', async () => {
      await registry.updateModel('org1/model-1', { description: 'second' });
      await registry.updateModel('org1/model-1', { description: 'third' });
      const versions = await registry.listVersions('org1/model-1');
      assert.deepEqual(versions.map((v) => v.version), [1, 2, 3]);
      await registry.rollback('org1/model-1', 1);
      assert.equal((await registry.getModel('org1/model-1'))?.description, 'sample model number 1');
      assert.equal((await registry.listVersions('org1/model-1')).length, 4);
    });

    it('keeps committed models across a reopen', async () => {
      await registry.close();
      registry = await Registry.open({ instance: await open(path) });
      assert.equal((await registry.getModel('org1/model-1'))?.description, 'sample model number 1');
    });
  });
}
