/**
 * A T5-style SentencePiece Unigram tokenizer in the Hugging Face `tokenizers` JSON format
 * (tokenizer.json) plus its tokenizer_config.json, over a generated vocabulary: T5's special
 * tokens at T5's ids, every printable ASCII character alone and after the word marker `▁` (so any
 * ASCII text tokenizes), a few whole words, then lower-case letter pairs and triples up to the
 * requested size.
 */

/** T5's special tokens, at T5's ids: padding (also the decoder's start token), end of sequence, unknown. */
const SPECIAL_TOKENS = ['<pad>', '</s>', '<unk>'] as const;
export const PAD_ID = 0;
export const EOS_ID = 1;
export const UNK_ID = 2;
/** SentencePiece's word marker: a word's first piece carries it in place of the space before it. */
const WORD_START = '\u2581';
const WHOLE_WORDS = ['the', 'a', 'is', 'of', 'and', 'to', 'in', 'hello', 'world', 'summarize', 'translate', 'text'];

/** A vocabulary entry: the piece and its log-probability score. */
export type UnigramPiece = [piece: string, score: number];

function printableCharacters(): string[] {
  return Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
}

/**
 * Longer pieces score higher than the pieces they split into, as in a trained model, so the
 * Viterbi search of the Unigram model prefers whole words and letter groups to single characters.
 */
const scoreOf = (piece: string, id: number) => -(8 + 2 * [...piece].length) - id * 1e-6;

/** The vocabulary, in id order; `size` of at least the base set (204 pieces), else characters are missing. */
export function unigramVocabulary(size: number): UnigramPiece[] {
  const pieces: string[] = [...SPECIAL_TOKENS, WORD_START];
  const seen = new Set(pieces);
  const push = (piece: string) => {
    if (pieces.length < size && !seen.has(piece)) {
      seen.add(piece);
      pieces.push(piece);
    }
  };
  for (const ch of printableCharacters()) push(ch);
  for (const ch of printableCharacters()) push(`${WORD_START}${ch}`);
  for (const word of WHOLE_WORDS) push(`${WORD_START}${word}`);
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  for (const length of [2, 3]) {
    const total = letters.length ** length;
    for (let n = 0; n < total && pieces.length < size; n++) {
      let piece = '';
      for (let k = 0, m = n; k < length; k++, m = Math.floor(m / letters.length)) piece += letters[m % letters.length];
      push(`${WORD_START}${piece}`);
      push(piece);
    }
  }
  return pieces.map((piece, id) => [piece, id < SPECIAL_TOKENS.length ? 0 : scoreOf(piece, id)]);
}

/** tokenizer.json for `vocab`: words split on whitespace, each marked with `▁`, `</s>` appended. */
export function unigramTokenizerJson(vocab: readonly UnigramPiece[]): Record<string, unknown> {
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const eos = (typeId: number) => ({ SpecialToken: { id: '</s>', type_id: typeId } });
  const metaspace = { type: 'Metaspace', replacement: WORD_START, prepend_scheme: 'always', split: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, metaspace] },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, eos(0)],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, eos(0), { Sequence: { id: 'B', type_id: 0 } }, eos(0)],
      special_tokens: { '</s>': { id: '</s>', ids: [EOS_ID], tokens: ['</s>'] } },
    },
    decoder: metaspace,
    model: { type: 'Unigram', unk_id: UNK_ID, byte_fallback: false, vocab },
  };
}

/** tokenizer_config.json of a T5 tokenizer without sentinel (`<extra_id_N>`) tokens. */
export function unigramTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'T5Tokenizer',
    model_max_length: modelMaxLength,
    eos_token: '</s>', unk_token: '<unk>', pad_token: '<pad>',
    extra_ids: 0, additional_special_tokens: [],
    clean_up_tokenization_spaces: false,
  };
}
