/**
 * Which files a pull chooses from a repo listing (pure: no hub needed).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isModelManagerError, selectFiles, type RepoFile } from '../../src/index.js';

const files = (...paths: string[]): RepoFile[] => paths.map((path) => ({ path, size: 1 }));
const chosen = (listing: RepoFile[], variant?: string) => selectFiles(listing, { repoId: 'acme/x', ...(variant ? { variant } : {}) }).files.map((f) => f.path);

test('GGUF: Q4_K_M by default, else the closest quantization; all parts of a split file; never a projector', () => {
  assert.deepEqual(chosen(files('README.md', 'x.Q8_0.gguf', 'x.Q4_K_M.gguf', 'x.F16.gguf')), ['README.md', 'x.Q4_K_M.gguf']);
  assert.deepEqual(chosen(files('x.Q8_0.gguf', 'x.Q4_0.gguf', 'x.F16.gguf')), ['x.Q4_0.gguf']);
  assert.deepEqual(chosen(files('x.F32.gguf', 'x.Q8_0.gguf')), ['x.Q8_0.gguf']);
  assert.deepEqual(chosen(files('Q5_K_M/x-Q5_K_M-00002-of-00002.gguf', 'Q5_K_M/x-Q5_K_M-00001-of-00002.gguf', 'x-Q2_K.gguf'), 'q5_k_m'),
    ['Q5_K_M/x-Q5_K_M-00001-of-00002.gguf', 'Q5_K_M/x-Q5_K_M-00002-of-00002.gguf']);
  assert.deepEqual(chosen(files('mmproj-x-f16.gguf', 'x.Q4_K_M.gguf')), ['x.Q4_K_M.gguf']);
  assert.equal(selectFiles(files('x.Q8_0.gguf', 'x.Q4_K_M.gguf'), { repoId: 'acme/x' }).weights, 'x.Q4_K_M.gguf');
});

test('ONNX: the fp32 graph by default, one variant by tag with its external data, a decoder exported three ways once', () => {
  const onnx = files('config.json', 'tokenizer.json', 'model.safetensors', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_quantized.onnx', 'onnx/model_fp16.onnx', 'onnx/model_O4.onnx');
  assert.deepEqual(chosen(onnx), ['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'tokenizer.json']);
  assert.deepEqual(chosen(onnx, 'quantized'), ['config.json', 'onnx/model_quantized.onnx', 'tokenizer.json']);
  assert.deepEqual(chosen(onnx, 'O4'), ['config.json', 'onnx/model_O4.onnx', 'tokenizer.json']);
  const decoder = files('onnx/decoder_model.onnx', 'onnx/decoder_with_past_model.onnx', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_q4.onnx');
  assert.deepEqual(chosen(decoder), ['onnx/decoder_model_merged.onnx']);
  assert.throws(() => chosen(onnx, 'int4'), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /fp32, quantized, fp16, o4/.test(e.message));
});
