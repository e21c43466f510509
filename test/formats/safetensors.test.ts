import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeSafetensors, encodeSafetensorsHeader, isModelManagerError, readSafetensorsHeader, readSafetensorsModel } from '../../src/index.js';
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
