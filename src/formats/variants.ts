/**
 * Weight files saved more than once: the Hugging Face libraries keep precision and EMA variants
 * beside the default weights (`model.fp16.safetensors`, transformers.js's `onnx/model_quantized.onnx`),
 * Mistral's repos the original `consolidated.safetensors` beside the transformers shards, and
 * Optimum exports a decoder up to three ways. Each is the same weights again, so a model's
 * parameters are counted over one variant's files.
 */
import { basename } from 'node:path';

/** Variants by preference: the wider types before the quantized (whose packed shapes undercount). */
const SAFETENSORS_VARIANTS = ['fp32', 'bf16', 'fp16', 'ema', 'non_ema', 'fp8', 'int8', 'int4'];
const ONNX_VARIANTS = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'quantized', 'q4', 'q4f16', 'bnb4'];
/** `model.fp16.safetensors`, `model.fp16-00001-of-00002.safetensors`. */
const SAFETENSORS_VARIANT = new RegExp(`\\.(${SAFETENSORS_VARIANTS.join('|')})(?=(-\\d{5}-of-\\d{5})?\\.safetensors$)`, 'i');
/** `model_fp16.onnx`, `decoder_model_merged_q4.onnx`. */
export const ONNX_VARIANT = new RegExp(`_(${ONNX_VARIANTS.join('|')})(?=\\.onnx$)`, 'i');

/** The files of the first variant present in `order`, the default weights (no variant) before any. */
function oneVariant(files: string[], pattern: RegExp, order: string[]): string[] {
  const variantOf = (f: string) => pattern.exec(f)?.[1]!.toLowerCase() ?? '';
  const variants = new Set(files.map(variantOf));
  if (variants.size <= 1) return files;
  const chosen = ['', ...order].find((v) => variants.has(v));
  return files.filter((f) => variantOf(f) === chosen);
}

/** The safetensors files (names or paths) of one variant, without Mistral's original-format `consolidated.safetensors` beside the transformers weights. */
export function oneSafetensorsVariant(files: string[]): string[] {
  const chosen = oneVariant(files, SAFETENSORS_VARIANT, SAFETENSORS_VARIANTS);
  const transformers = chosen.filter((f) => !/^consolidated\b/i.test(basename(f)));
  return transformers.length > 0 ? transformers : chosen;
}

/**
 * The ONNX files (names or paths) of one variant, and of a decoder exported several ways
 * (`decoder_model_merged`, `decoder_model`, `decoder_with_past_model`) one.
 */
export function oneOnnxVariant(files: string[]): string[] {
  const chosen = oneVariant(files, ONNX_VARIANT, ONNX_VARIANTS);
  const stem = (f: string) => basename(f).replace(ONNX_VARIANT, '');
  const stems = new Set(chosen.map(stem));
  const repeats = stems.has('decoder_model_merged.onnx') ? ['decoder_model.onnx', 'decoder_with_past_model.onnx'] : stems.has('decoder_model.onnx') ? ['decoder_with_past_model.onnx'] : [];
  return chosen.filter((f) => !repeats.includes(stem(f)));
}
