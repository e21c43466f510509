import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateMemory, isModelManagerError, validateModel, type ModelMetadata } from '../../src/index.js';
import { fixtureConfig } from '../hub/model-files.js';

const KiB = 1024;
const GiB = 1024 ** 3;

describe('estimateMemory', () => {
  const llama = fixtureConfig('meta-llama--Llama-3.1-8B');

  it('Llama-3.1-8B: 128 KiB of fp16 KV cache per token, 1 GiB at 8K context', () => {
    const e = estimateMemory(llama, { context: 8192 });
    assert.equal(e.kvCacheBytesPerToken, 128 * KiB);
    assert.equal(e.kvCacheBytes, 1 * GiB);
    assert.equal(e.attentionType, 'gqa');
    assert.match(e.method, /kv: gqa 2x32x8x128 float16/);
  });

  it('sizes weights by parameters x dtype and adds the parts up', () => {
    const e = estimateMemory(llama, { context: 8192, dtype: 'bf16' });
    assert.equal(e.weightsBytes, 8_030_261_248 * 2);
    assert.equal(e.totalBytes, e.weightsBytes + e.kvCacheBytes + e.overheadBytes);
    assert.equal(estimateMemory(llama, { dtype: 'int4' }).weightsBytes, Math.ceil(8_030_261_248 / 2));
    assert.equal(estimateMemory(llama, { dtype: 'fp32' }).weightsBytes, 8_030_261_248 * 4);
  });

  it('scales the cache with batch and KV dtype', () => {
    const one = estimateMemory(llama, { context: 4096 });
    const four = estimateMemory(llama, { context: 4096, batch: 4, kvDtype: 'fp8' });
    assert.equal(four.kvCacheBytes, one.kvCacheBytes * 4 / 2);
    assert.equal(four.kvCacheBytesPerToken, 64 * KiB);
  });

  it('defaults the context to the model\'s, at most 4096', () => {
    assert.equal(estimateMemory(llama).context, 4096);
    assert.equal(estimateMemory(fixtureConfig('openai-community--gpt2')).context, 1024);
  });

  it('stops sliding-window layers at their window (Mistral 4096)', () => {
    const mistral = fixtureConfig('mistralai--Mistral-7B-v0.1');
    const at4k = estimateMemory(mistral, { context: 4096 });
    const at32k = estimateMemory(mistral, { context: 32768 });
    assert.equal(at32k.kvCacheBytes, at4k.kvCacheBytes);
    assert.equal(at32k.slidingWindow, 4096);
    const noWindow = estimateMemory({ ...mistral, sliding_window: null }, { context: 32768 });
    assert.equal(noWindow.kvCacheBytes, 8 * at4k.kvCacheBytes);
    // Qwen2 declares a window but does not use it.
    const qwen = estimateMemory(fixtureConfig('Qwen--Qwen2-7B'), { context: 32768 });
    assert.equal(qwen.kvCacheBytes, 32768 * qwen.kvCacheBytesPerToken);
  });

  it('keeps the window only on Gemma 2\'s local layers (every other one)', () => {
    const gemma2 = estimateMemory(fixtureConfig('google--gemma-2-9b'), { context: 8192 });
    const perLayer = 2 * 8 * 256 * 2;
    assert.equal(gemma2.kvCacheBytes, perLayer * (21 * 8192 + 21 * 4096));
  });

  it('caches the compressed latent for MLA (DeepSeek-V2-Lite: 27 x (512 + 64) fp16 per token)', () => {
    const e = estimateMemory(fixtureConfig('deepseek-ai--DeepSeek-V2-Lite'), { context: 8192 });
    assert.equal(e.kvCacheBytesPerToken, 27 * (512 + 64) * 2);
    assert.equal(e.attentionType, 'mla');
  });

  it('keeps no KV cache for encoder-only models', () => {
    const e = estimateMemory(fixtureConfig('google-bert--bert-base-uncased'));
    assert.equal(e.kvCacheBytes, 0);
    assert.match(e.method, /encoder-only/);
  });

  it('weighs a GGUF model by its file bytes and a quantized one by its bits', () => {
    const base = { modelId: 'x/q', modelType: 'decoder_only', huggingfaceConfig: llama, parameterCount: 8_030_261_248 };
    const gguf = validateModel({ ...base, format: 'gguf', quantization: 'Q4_K_M', files: [{ path: 'm.Q4_K_M.gguf', size: 4_920_000_000 }] }) as ModelMetadata;
    assert.equal(estimateMemory(gguf).weightsBytes, 4_920_000_000);
    assert.match(estimateMemory(gguf).method, /gguf file bytes/);
    const q4 = validateModel({ ...base, quantization: 'q4_k_m' }) as ModelMetadata;
    assert.equal(estimateMemory(q4).weightsBytes, Math.ceil(8_030_261_248 * 4.85 / 8));
    const gptq = estimateMemory({ ...llama, quantization_config: { quant_method: 'gptq', bits: 4 } });
    assert.equal(gptq.weightsBytes, Math.ceil(8_030_261_248 / 2));
  });

  it('says what it could not size instead of failing', () => {
    const e = estimateMemory({ model_type: 'mystery' });
    assert.equal(e.weightsBytes, 0);
    assert.ok(e.warnings.length >= 1);
    assert.match(e.method, /params: unknown/);
  });

  it('refuses a negative or fractional context or batch', () => {
    assert.throws(() => estimateMemory(llama, { context: -1 }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
    assert.throws(() => estimateMemory(llama, { batch: 1.5 }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
  });

  it('refuses an unknown dtype with the list of known ones', () => {
    assert.throws(() => estimateMemory(llama, { dtype: 'float13' }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /bfloat16/.test(e.message));
  });
});
