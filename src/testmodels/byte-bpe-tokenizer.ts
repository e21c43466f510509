/**
 * A GPT-2 style byte-level BPE tokenizer (tokenizer.json in the Hugging Face `tokenizers` format)
 * with no merges: one token per byte plus `<|endoftext|>`, so any text round-trips exactly.
 */

export const END_OF_TEXT = '<|endoftext|>';
/** Bytes as GPT-2's byte-level pre-tokenizer shows them, then the end-of-text token. */
export const BYTE_BPE_VOCAB_SIZE = 257;

/** GPT-2's `bytes_to_unicode`: printable bytes stand for themselves, the rest are shifted past 255. */
function byteCharacters(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let shifted = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + shifted++));
}

/** The id of the token of `byte`. */
export const byteTokenId = (byte: number) => byte;

export function byteBpeTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = Object.fromEntries(byteCharacters().map((ch, b) => [ch, byteTokenId(b)]));
  vocab[END_OF_TEXT] = 256;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 256, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, vocab, merges: [],
    },
  };
}

export function byteBpeTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'GPT2Tokenizer',
    model_max_length: modelMaxLength,
    add_prefix_space: false,
    bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT,
    clean_up_tokenization_spaces: false,
  };
}
