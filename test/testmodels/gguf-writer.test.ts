import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gguf } from '@huggingface/gguf';
import { toFloat16Bits, writeGgufFile } from '../../src/testmodels/index.js';
import { tempDir } from '../helpers/tmp.js';

test('a written GGUF file reads back with an independent parser: metadata, tensors, aligned data', async () => {
  using dir = tempDir();
  const file = join(dir.path, 'm.gguf');
  const size = await writeGgufFile(file, {
    metadata: {
      'general.architecture': { type: 'string', value: 'llama' },
      'general.alignment': { type: 'uint32', value: 64 },
      'test.count': { type: 'uint64', value: 5n },
      'test.ratio': { type: 'float32', value: 0.5 },
      'test.flag': { type: 'bool', value: true },
      'test.names': { type: 'array', itemType: 'string', value: ['a', 'bé', ''] },
      'test.ids': { type: 'array', itemType: 'int32', value: [-1, 2, 3] },
    },
    tensors: [
      { name: 'a', shape: [3], type: 'F32', fill: (out) => out.set([1, 2, 3]) },
      { name: 'b', shape: [4, 2], type: 'F16', fill: (out) => out.fill(-2) },
    ],
  });
  const bytes = readFileSync(file);
  assert.equal(bytes.length, size);
  const parsed = await gguf(file, { allowLocalFile: true });
  const metadata = parsed.metadata as unknown as Record<string, unknown>;
  assert.equal(metadata.version, 3);
  assert.equal(metadata['general.architecture'], 'llama');
  assert.equal(metadata['test.count'], 5n);
  assert.equal(metadata['test.ratio'], 0.5);
  assert.equal(metadata['test.flag'], true);
  assert.deepEqual(metadata['test.names'], ['a', 'bé', '']);
  assert.deepEqual(metadata['test.ids'], [-1, 2, 3]);
  assert.deepEqual(parsed.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)]), [['a', [3], 0, 0], ['b', [4, 2], 1, 64]]);
  // Data starts at the first multiple of the alignment after the header.
  const dataStart = Number(parsed.tensorDataOffset);
  assert.equal(dataStart % 64, 0);
  assert.deepEqual([0, 4, 8].map((at) => bytes.readFloatLE(dataStart + at)), [1, 2, 3]);
  assert.equal(bytes.readUInt16LE(dataStart + 64), 0xc000); // -2 in float16
  assert.equal(size, dataStart + 64 + 64); // every tensor padded to the alignment, the last one too
});

test('float16 conversion rounds to nearest even and saturates like numpy', () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00],
    [1e6, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [2 ** -26, 0x0000], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
  ];
  for (const [value, bits] of cases) assert.equal(toFloat16Bits(value), bits, `float16 of ${value}`);
  assert.equal(toFloat16Bits(NaN) & 0x7c00, 0x7c00);
  assert.notEqual(toFloat16Bits(NaN) & 0x03ff, 0);
});

test('refuses what llama.cpp would refuse: bad alignment, duplicate tensors, impossible shapes', async () => {
  using dir = tempDir();
  const file = join(dir.path, 'x.gguf');
  const tensor = (name: string, shape: number[]) => ({ name, shape, type: 'F32' as const, fill: () => {} });
  await assert.rejects(writeGgufFile(file, { metadata: { 'general.alignment': { type: 'uint32', value: 24 } }, tensors: [] }), /power of two/);
  await assert.rejects(writeGgufFile(file, { metadata: { 'general.alignment': { type: 'uint64', value: 32 } }, tensors: [] }), /must be a uint32/);
  await assert.rejects(writeGgufFile(file, { metadata: {}, tensors: [tensor('a', [2]), tensor('a', [2])] }), /appears twice/);
  await assert.rejects(writeGgufFile(file, { metadata: {}, tensors: [tensor('a', [1, 1, 1, 1, 1])] }), /1 to 4/);
  await assert.rejects(writeGgufFile(file, { metadata: {}, tensors: [tensor('a', [0])] }), /positive whole/);
});
