import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneOnnxVariant, oneSafetensorsVariant } from '../../src/index.js';

test('a precision or EMA variant of safetensors weights is left out of the weights counted', () => {
  assert.deepEqual(oneSafetensorsVariant(['model.safetensors', 'model.fp16.safetensors']), ['model.safetensors']);
  assert.deepEqual(
    oneSafetensorsVariant(['/m/unet/x.fp16-00001-of-00002.safetensors', '/m/unet/x.fp16-00002-of-00002.safetensors', '/m/unet/x-00001-of-00002.safetensors', '/m/unet/x-00002-of-00002.safetensors']),
    ['/m/unet/x-00001-of-00002.safetensors', '/m/unet/x-00002-of-00002.safetensors'],
  );
  assert.deepEqual(oneSafetensorsVariant(['x.int8.safetensors', 'x.fp16.safetensors']), ['x.fp16.safetensors'], 'without default weights, the widest variant');
  assert.deepEqual(oneSafetensorsVariant(['model.safetensors', 'adapter.safetensors']), ['model.safetensors', 'adapter.safetensors'], 'different names are different weights');
  assert.deepEqual(oneSafetensorsVariant(['/v.fp16/model.safetensors']), ['/v.fp16/model.safetensors'], 'a folder name is not a variant');
  assert.deepEqual(oneSafetensorsVariant(['consolidated.safetensors', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'], "Mistral's original format beside the transformers shards");
  assert.deepEqual(oneSafetensorsVariant(['consolidated.safetensors']), ['consolidated.safetensors']);
});

test('transformers.js ONNX variants and a decoder exported three ways count once', () => {
  const variants = ['onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4f16.onnx', 'onnx/model_bnb4.onnx'];
  assert.deepEqual(oneOnnxVariant(variants), ['onnx/model.onnx']);
  assert.deepEqual(oneOnnxVariant(variants.slice(2)), ['onnx/model_quantized.onnx'], 'quantized 8-bit before 4-bit');
  const seq2seq = ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx', 'decoder_model_merged.onnx', 'encoder_model_fp16.onnx', 'decoder_model_merged_fp16.onnx'];
  assert.deepEqual(oneOnnxVariant(seq2seq), ['encoder_model.onnx', 'decoder_model_merged.onnx']);
  assert.deepEqual(oneOnnxVariant(['encoder_model_q4.onnx', 'decoder_model_q4.onnx', 'decoder_with_past_model_q4.onnx']), ['encoder_model_q4.onnx', 'decoder_model_q4.onnx']);
  assert.deepEqual(oneOnnxVariant(['vision_encoder.onnx', 'text_model.onnx']), ['vision_encoder.onnx', 'text_model.onnx'], 'parts of one model all count');
});
