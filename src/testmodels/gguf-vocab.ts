/**
 * The byte-level SentencePiece vocabulary of generated GGUF models: `<unk>`, `<s>`, `</s>`, one
 * byte-fallback token per byte and the word separator `▁`, so any UTF-8 text tokenizes (one token
 * per byte, one per space) and any output detokenizes, with no merges or scores to invent.
 *
 * `▁` must be a token of its own: SentencePiece writes spaces as `▁`, and only a normal token is
 * turned back into a space; as byte tokens it would come back as the three bytes of `▁`.
 */
import type { GgufValue } from './gguf-writer.js';

/** llama.cpp's token attribute ids (llama_token_type). */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export const BYTE_VOCAB = {
  unk: 0,
  bos: 1,
  eos: 2,
  /** Id of the token of byte 0x00; byte b is `firstByte + b`. */
  firstByte: 3,
  space: 3 + 256,
  size: 3 + 256 + 1,
} as const;

/** True for the ids of printable ASCII bytes (space to tilde), the ones generated text favours. */
export function isPrintableByteToken(id: number): boolean {
  if (id === BYTE_VOCAB.space) return true;
  const byte = id - BYTE_VOCAB.firstByte;
  return byte >= 0x20 && byte <= 0x7e;
}

/** The `tokenizer.ggml.*` metadata of the byte vocabulary. */
export function byteVocabMetadata(): Record<string, GgufValue> {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
  }
  tokens.push('\u2581');
  types.push(TOKEN_TYPE.normal);
  return {
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: tokens },
    'tokenizer.ggml.scores': { type: 'array', itemType: 'float32', value: tokens.map(() => 0) },
    'tokenizer.ggml.token_type': { type: 'array', itemType: 'int32', value: types },
    'tokenizer.ggml.bos_token_id': { type: 'uint32', value: BYTE_VOCAB.bos },
    'tokenizer.ggml.eos_token_id': { type: 'uint32', value: BYTE_VOCAB.eos },
    'tokenizer.ggml.unknown_token_id': { type: 'uint32', value: BYTE_VOCAB.unk },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: true },
    'tokenizer.ggml.add_eos_token': { type: 'bool', value: false },
    // A leading space would change every prompt and come back in every detokenized text.
    'tokenizer.ggml.add_space_prefix': { type: 'bool', value: false },
  };
}
