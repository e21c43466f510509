import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isModelManagerError } from '../../src/index.js';
import { importBackendPackage } from '../../src/runtime/backends/import-package.js';
import { findGgufFile, findOnnxModelFolder } from '../../src/runtime/backends/model-files.js';
import { tempDir } from '../helpers/tmp.js';

test('the GGUF file of a folder: projectors skipped, split models from their first part', async () => {
  using dir = tempDir();
  const touch = (name: string) => writeFileSync(join(dir.path, name), '');
  assert.equal(await findGgufFile(dir.path), undefined);
  touch('mmproj-model-f16.gguf');
  assert.equal(await findGgufFile(dir.path), undefined);
  touch('model-00002-of-00002.gguf');
  touch('model-00001-of-00002.gguf');
  assert.equal(await findGgufFile(dir.path), join(dir.path, 'model-00001-of-00002.gguf'));
  assert.equal(await findGgufFile(join(dir.path, 'model-00002-of-00002.gguf')), join(dir.path, 'model-00002-of-00002.gguf'));
  assert.equal(await findGgufFile(join(dir.path, 'config.json')), undefined);
});

test('the ONNX model folder: config.json plus a graph at the root or in onnx/', async () => {
  using dir = tempDir();
  mkdirSync(join(dir.path, 'onnx'));
  writeFileSync(join(dir.path, 'onnx', 'model.onnx'), '');
  assert.equal(await findOnnxModelFolder(dir.path), undefined, 'no config.json');
  writeFileSync(join(dir.path, 'config.json'), '{}');
  assert.equal(await findOnnxModelFolder(dir.path), dir.path);
  assert.equal(await findOnnxModelFolder(join(dir.path, 'onnx', 'model.onnx')), dir.path);
  const flat = join(dir.path, 'flat');
  mkdirSync(flat);
  writeFileSync(join(flat, 'config.json'), '{}');
  writeFileSync(join(flat, 'model.onnx'), '');
  assert.equal(await findOnnxModelFolder(join(flat, 'model.onnx')), flat);
});

test('a backend package that is not installed is BACKEND_MISSING with the install command', async () => {
  await assert.rejects(importBackendPackage('mm-no-such-engine-package', 'example'),
    (e) => isModelManagerError(e, 'BACKEND_MISSING') && /npm install mm-no-such-engine-package/.test(e.message));
});
