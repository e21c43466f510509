/**
 * Bytes per element of the number formats people name when they size a model:
 * torch dtypes (bf16), safetensors dtypes (BF16), and llama.cpp quantization types (Q4_K_M).
 */
import { ModelManagerError } from '../errors.js';

/**
 * Bytes per weight. llama.cpp types carry their block scales, so Q4_K_M is about 4.85 bits,
 * not 4 (figures as llama.cpp's quantize tool reports them for a 7B llama).
 */
const BYTES_PER_ELEMENT = {
  float32: 4, float16: 2, bfloat16: 2, float8: 1, int8: 1, int4: 0.5,
  q8_0: 8.5 / 8, q6_k: 6.5625 / 8, q5_k_m: 5.69 / 8, q5_0: 5.5 / 8, q4_k_m: 4.85 / 8, q4_k_s: 4.58 / 8,
  q4_0: 4.5 / 8, q3_k_m: 3.91 / 8, q2_k: 3.35 / 8, nf4: 4.127 / 8,
} as const satisfies Record<string, number>;

export type Dtype = keyof typeof BYTES_PER_ELEMENT;

const ALIASES: Record<string, Dtype> = {
  fp32: 'float32', f32: 'float32', float: 'float32',
  fp16: 'float16', f16: 'float16', half: 'float16',
  bf16: 'bfloat16',
  fp8: 'float8', f8: 'float8', f8_e4m3: 'float8', f8_e5m2: 'float8', float8_e4m3fn: 'float8', float8_e5m2: 'float8',
  i8: 'int8', u8: 'int8', q8: 'int8',
  i4: 'int4', q4: 'int4', fp4: 'int4', mxfp4: 'int4',
  q4_k: 'q4_k_m', q5_k: 'q5_k_m', q6_k_m: 'q6_k', q3_k: 'q3_k_m',
};

/** The canonical name of a dtype, or undefined when unknown. */
export function normalizeDtype(name: string): Dtype | undefined {
  const key = name.trim().toLowerCase().replace(/^torch\./, '').replace(/-/g, '_');
  // Own keys only: `constructor` or `toString` is no dtype.
  if (Object.hasOwn(BYTES_PER_ELEMENT, key)) return key as Dtype;
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
}

/**
 * Parses a dtype the user typed.
 * @throws ModelManagerError INVALID_ARGUMENT listing the known ones
 */
export function parseDtype(name: string): Dtype {
  const dtype = normalizeDtype(name);
  if (dtype) return dtype;
  throw new ModelManagerError('INVALID_ARGUMENT', `unknown dtype "${name}": use one of ${Object.keys(BYTES_PER_ELEMENT).join(', ')} (or fp16, bf16, fp32, fp8)`, {
    details: { dtype: name, valid: Object.keys(BYTES_PER_ELEMENT) },
  });
}

/** Bytes one element of `dtype` takes (fractional for packed quantizations). */
export function bytesPerElement(dtype: Dtype): number {
  return BYTES_PER_ELEMENT[dtype];
}
