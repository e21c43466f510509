import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gguf } from '@huggingface/gguf';
import onnxProto from 'onnx-proto';
import { isModelManagerError, parseGgmlMagic, readGgmlMagic, readGgufHeader, readGgufModel, readOnnxModel } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { TEXT_ENCODER_IO, ggufHeader, llamaGgufMetadata, llamaTensors, writeGguf, writeOnnx, writeSparse } from './formats-writer.js';

test('GGUF: reads the model card fields and agrees with @huggingface/gguf, reading only the header of a 3.8 GB file', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'llama.Q4_K_M.gguf');
  const tensors = llamaTensors({ layers: 32, hidden: 4096, ff: 11008, vocab: 32000 });
  const size = writeGguf(path, llamaGgufMetadata({ name: 'Tiny Llama', layers: 32, heads: 32, kvHeads: 8, context: 8192, chatTemplate: '{{ messages }}' }), tensors);
  assert.ok(size > 2 ** 30, 'the sparse file declares gigabytes of weights');
  const h = await readGgufHeader(path);
  assert.equal(h.architecture, 'llama');
  assert.equal(h.name, 'Tiny Llama');
  assert.equal(h.contextLength, 8192);
  assert.equal(h.blockCount, 32);
  assert.equal(h.headCount, 32);
  assert.equal(h.headCountKv, 8);
  assert.equal(h.quantization, 'Q4_K_M');
  assert.equal(h.vocabSize, 4);
  assert.equal(h.chatTemplate, '{{ messages }}');
  const expected = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  assert.equal(h.parameterCount, expected);
  assert.ok(h.bytesRead <= Math.ceil(h.tensorDataOffset / 4096) * 4096, `read ${h.bytesRead} bytes of a ${h.tensorDataOffset}-byte header`);

  const reference = await gguf(path, { allowLocalFile: true, computeParametersCount: true });
  assert.equal(reference.parameterCount, h.parameterCount);
  assert.equal((reference.metadata as Record<string, unknown>)['general.name'], h.name);
  assert.equal(Number(reference.tensorDataOffset), h.tensorDataOffset);
});

test('GGUF: refuses junk, absurd counts, oversized strings and truncated files, each with a reason', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'bad.gguf');
  const reject = (pattern: RegExp) => assert.rejects(readGgufHeader(path), (e) => isModelManagerError(e, 'INVALID_FILE') && pattern.test(e.message));

  writeFileSync(path, Buffer.from('PK\x03\x04 definitely not gguf, just a zip-ish blob of bytes'));
  await reject(/GGUF magic/);

  writeFileSync(path, ggufHeader({}, [], { tensorCount: 2n ** 40n }).header);
  await reject(/tensors, over the/);

  const long = Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(8), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('name'), Buffer.from([8, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0])]);
  writeFileSync(path, long);
  await reject(/over the .*limit/);

  const tensors = llamaTensors();
  writeGguf(path, llamaGgufMetadata({ name: 'cut' }), tensors);
  const full = readFileSync(path).length;
  truncateSync(path, full - 100);
  await reject(/truncated or lying/);
  truncateSync(path, 40);
  await reject(/truncated/);
});

test('GGUF: a shard set is read whole, and a missing shard is named', async () => {
  using dir = tempDir();
  const first = join(dir.path, 'm-00001-of-00002.gguf');
  const meta = { ...llamaGgufMetadata({ name: 'split' }), 'split.count': { type: 'u32', value: 2 } } as const;
  writeGguf(first, meta, llamaTensors({ layers: 1 }));
  await assert.rejects(readGgufModel(first), (e) => isModelManagerError(e, 'FILE_NOT_FOUND') && /1 of 2 GGUF shards are missing/.test(e.message));
  writeGguf(join(dir.path, 'm-00002-of-00002.gguf'), { 'split.count': { type: 'u32', value: 2 } }, [{ name: 'output.weight', shape: [64, 256] }]);
  const model = await readGgufModel(first);
  assert.equal(model.shards.length, 2);
  assert.equal(model.parameterCount, (await readGgufHeader(first)).parameterCount + 64 * 256);
  assert.equal(model.header.name, 'split');
});

test('ONNX: graph inputs and outputs come from a bounded read that jumps over inline weights', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'model.onnx');
  const initializers = [{ name: 'embeddings.word_embeddings.weight', dims: [30522, 384] }, { name: 'encoder.layer.0.weight', dims: [384, 1536] }];
  const size = writeOnnx(path, { ...TEXT_ENCODER_IO, initializers, nodes: 50 });
  assert.ok(size > 40 * 2 ** 20);
  const info = await readOnnxModel(path);
  assert.deepEqual(info.inputs.map((i) => [i.name, i.dtype, i.shape]), [['input_ids', 'int64', ['batch_size', 'sequence_length']], ['attention_mask', 'int64', ['batch_size', 'sequence_length']]]);
  assert.deepEqual(info.outputs.map((o) => [o.name, o.dtype, o.shape]), [['last_hidden_state', 'float32', ['batch_size', 'sequence_length', 384]]]);
  assert.equal(info.parameterCount, 30522 * 384 + 384 * 1536);
  assert.equal(info.initializerCount, 2);
  assert.equal(info.nodeCount, 50);
  assert.equal(info.opsets['ai.onnx'], 17);
  assert.ok(info.bytesRead < 64 * 1024, `read ${info.bytesRead} of ${size} bytes`);

  // The same file decodes whole with onnx-proto: the writer makes real ONNX.
  const small = join(dir.path, 'small.onnx');
  writeOnnx(small, { ...TEXT_ENCODER_IO, initializers: [{ name: 'w', dims: [4, 4] }] });
  const whole = onnxProto.onnx.ModelProto.decode(readFileSync(small));
  assert.deepEqual(whole.graph?.input?.map((i) => i.name), ['input_ids', 'attention_mask']);
  assert.equal((await readOnnxModel(small)).parameterCount, 16);
});

test('ONNX: junk and truncated files are refused', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'junk.onnx');
  writeFileSync(path, Buffer.from('<html>this is an error page saved as model.onnx</html>'));
  await assert.rejects(readOnnxModel(path), (e) => isModelManagerError(e, 'INVALID_FILE'));
  writeOnnx(path, { ...TEXT_ENCODER_IO, initializers: [{ name: 'w', dims: [1000, 1000] }] });
  truncateSync(path, 5000);
  await assert.rejects(readOnnxModel(path), (e) => isModelManagerError(e, 'INVALID_FILE') && /truncated|past the end/.test(e.message));
});

test('GGML: the legacy magics are told from PyTorch and GGUF', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'ggml-model-q4_0.bin');
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x67676a74);
  head.writeUInt32LE(3, 4);
  writeSparse(path, [head, 1024]);
  assert.deepEqual(await readGgmlMagic(path), { magic: 'ggjt', version: 3 });
  assert.equal(parseGgmlMagic(Buffer.from('PK\x03\x04....')), undefined);
  assert.equal(parseGgmlMagic(Buffer.from('GGUF\x03\x00\x00\x00')), undefined);
});

test('GGUF: a 50,000-token vocabulary is skipped string by string, across read windows, without losing the tensor table', async () => {
  using dir = tempDir();
  const path = join(dir.path, 'vocab.gguf');
  const vocab = Array.from({ length: 50_000 }, (_, i) => `tok${i}${'x'.repeat(i % 17)}`);
  writeGguf(path, llamaGgufMetadata({ name: 'big vocab', vocab }), llamaTensors({ vocab: 50_000 }));
  const h = await readGgufHeader(path);
  const reference = await gguf(path, { allowLocalFile: true, computeParametersCount: true });
  assert.equal(h.vocabSize, 50_000);
  assert.equal(h.parameterCount, reference.parameterCount);
  assert.equal(h.tensors.length, reference.tensorInfos.length);
  // No read runs past the page that holds the header's end: reading into the weights would make
  // Linux read ahead megabytes of them.
  assert.ok(h.bytesRead <= Math.ceil(h.tensorDataOffset / 4096) * 4096, `read ${h.bytesRead} bytes of a ${h.tensorDataOffset}-byte header`);

  // A token deep in the vocabulary whose length prefix lies is refused, not skipped over.
  const bytes = readFileSync(path);
  const at = bytes.indexOf('tok30000x') - 8;
  for (const lie of [2n ** 33n, 5n * 2n ** 20n]) {
    bytes.writeBigUInt64LE(lie, at);
    writeFileSync(path, bytes);
    await assert.rejects(readGgufHeader(path), (e) => isModelManagerError(e, 'INVALID_FILE') && /a string of "tokenizer.ggml.tokens" is over the 4194304-byte limit/.test(e.message));
  }
});
