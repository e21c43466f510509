import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_TENSORS, encodeSafetensors, encodeSafetensorsHeader, isModelManagerError, readSafetensorsCounts, readSafetensorsHeader, readSafetensorsModel } from '../../src/index.js';
import { writeSparse } from '../discovery/formats-writer.js';
import { tempDir } from '../helpers/tmp.js';

test('reads parameter counts and dtypes from a header, single and sharded', async () => {
  using dir = tempDir();
  const a = join(dir.path, 'model-00001-of-00002.safetensors');
  const b = join(dir.path, 'model-00002-of-00002.safetensors');
  writeFileSync(a, encodeSafetensors({ 'embed.weight': { dtype: 'BF16', shape: [100, 16] } }));
  writeFileSync(b, encodeSafetensors({ 'lm_head.weight': { dtype: 'F32', shape: [100, 16] }, bias: { dtype: 'F32', shape: [16] } }));
  const one = await readSafetensorsHeader(a);
  assert.equal(one.parameterCount, 1600);
  assert.deepEqual(one.parametersByDtype, { BF16: 1600 });
  const index = join(dir.path, 'model.safetensors.index.json');
  writeFileSync(index, JSON.stringify({ weight_map: { 'embed.weight': 'model-00001-of-00002.safetensors', 'lm_head.weight': 'model-00002-of-00002.safetensors', bias: 'model-00002-of-00002.safetensors' } }));
  const all = await readSafetensorsModel(index);
  assert.equal(all.parameterCount, 1600 + 1600 + 16);
  assert.equal(all.dataBytes, 3200 + 6400 + 64);
});

test('refuses truncated, lying, huge and junk files with a reason', async () => {
  using dir = tempDir();
  const file = join(dir.path, 'm.safetensors');
  writeFileSync(file, encodeSafetensors({ w: { dtype: 'F32', shape: [1000] } }));
  truncateSync(file, readFileSync(file).length - 10);
  await assert.rejects(readSafetensorsHeader(file), (e) => isModelManagerError(e, 'INVALID_FILE') && /truncated or lying/.test(e.message));

  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(2n ** 40n);
  writeFileSync(file, huge);
  await assert.rejects(readSafetensorsHeader(file), (e) => isModelManagerError(e, 'INVALID_FILE') && /limit/.test(e.message));

  writeFileSync(file, Buffer.from('this is not a model at all, just text'));
  await assert.rejects(readSafetensorsHeader(file), (e) => isModelManagerError(e, 'INVALID_FILE'));

  const { header } = encodeSafetensorsHeader({ w: { dtype: 'F16', shape: [4] } });
  writeFileSync(file, header); // header promises 8 bytes of data that are not there
  await assert.rejects(readSafetensorsHeader(file), /truncated or lying/);
});

/** A file whose 8-byte header length is `length`, followed by `json` and `data` bytes (sparse). */
function writeRaw(path: string, json: string, data: number, length = Buffer.byteLength(json)): void {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(length));
  writeSparse(path, [prefix, Buffer.from(json), data]);
}

test('a header longer than huggingface_hub reads (25 MB) is refused unread, one naming too many tensors before it is parsed', async () => {
  using dir = tempDir();
  const long = join(dir.path, 'long.safetensors');
  // 30 MB of header in a sparse file: read, it would be zeros (not JSON); it must not be read at all.
  writeRaw(long, '', 31_000_000, 30_000_000);
  await assert.rejects(readSafetensorsHeader(long), (e) => isModelManagerError(e, 'INVALID_FILE') && /header length 30000000 exceeds the 25000000-byte limit/.test(e.message));
  assert.throws(() => readSafetensorsCounts(long), /exceeds the 25000000-byte limit/);

  // Not the layout the safetensors library writes (keys reordered), so the exact parser would take it.
  const many = join(dir.path, 'many.safetensors');
  const tensors = Array.from({ length: MAX_TENSORS + 1 }, (_, i) => `"t${i}":{"shape":[1],"dtype":"U8","data_offsets":[${i},${i + 1}]}`);
  writeRaw(many, `{${tensors.join(',')}}`, MAX_TENSORS + 1);
  assert.throws(() => readSafetensorsCounts(many), (e: unknown) => isModelManagerError(e, 'INVALID_FILE') && new RegExp(`more than ${MAX_TENSORS} tensors`).test(e.message));
});

test('tensor and dtype names from the file are plain keys, "__proto__" and "constructor" included', async () => {
  using dir = tempDir();
  const file = join(dir.path, 'proto.safetensors');
  writeRaw(file, '{"__proto__":{"dtype":"constructor","shape":[2],"data_offsets":[0,2]},"w":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', 4);
  const h = await readSafetensorsHeader(file);
  assert.deepEqual(Object.keys(h.tensors), ['__proto__', 'w']);
  assert.deepEqual(Object.entries(h.parametersByDtype), [['constructor', 2], ['U8', 2]]);
  assert.equal(h.parameterCount, 4);
});

test('an index naming a shard outside its folder is refused without reading it; an HF cache snapshot\'s links into blobs/ are followed', async () => {
  using dir = tempDir();
  const secret = join(dir.path, 'secret.txt');
  writeFileSync(secret, 'SECRET-CONTENT of another file');
  const model = join(dir.path, 'models', 'a', 'b');
  mkdirSync(model, { recursive: true });
  writeFileSync(join(model, 'model-00001-of-00002.safetensors'), encodeSafetensors({ w: { dtype: 'F32', shape: [4] } }));
  const index = join(model, 'model.safetensors.index.json');
  const outside = (e: unknown) => isModelManagerError(e, 'INVALID_FILE') && /outside the model's folder/.test(e.message) && !/SECRET|exceeds|JSON/.test(e.message);
  for (const name of ['../../../secret.txt', secret, 'sub/../../../../secret.txt']) {
    writeFileSync(index, JSON.stringify({ weight_map: { w: 'model-00001-of-00002.safetensors', v: name } }));
    await assert.rejects(readSafetensorsModel(index), outside, name);
  }
  // Spelled inside, but a link that leads out.
  symlinkSync(secret, join(model, 'model-00002-of-00002.safetensors'));
  writeFileSync(index, JSON.stringify({ weight_map: { w: 'model-00001-of-00002.safetensors', v: 'model-00002-of-00002.safetensors' } }));
  await assert.rejects(readSafetensorsModel(index), outside);

  // The HF cache: snapshots/<rev>/ holds links to ../../blobs/<hash>, inside the repo folder.
  const repo = join(dir.path, 'hub', 'models--org--name');
  const snapshot = join(repo, 'snapshots', 'abc');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  for (const [i, blob] of ['b1', 'b2'].entries()) {
    writeFileSync(join(repo, 'blobs', blob), encodeSafetensors({ [`w${i}`]: { dtype: 'F32', shape: [4] } }));
    symlinkSync(join('..', '..', 'blobs', blob), join(snapshot, `model-0000${i + 1}-of-00002.safetensors`));
  }
  writeFileSync(join(snapshot, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w0: 'model-00001-of-00002.safetensors', w1: 'model-00002-of-00002.safetensors' } }));
  assert.equal((await readSafetensorsModel(join(snapshot, 'model.safetensors.index.json'))).parameterCount, 8);
});
