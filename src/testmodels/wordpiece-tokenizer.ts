/**
 * A BERT-style WordPiece tokenizer in the Hugging Face `tokenizers` JSON format (tokenizer.json)
 * plus its tokenizer_config.json, over a generated vocabulary: the special tokens, every printable
 * ASCII character as a word start and as a `##` continuation (so any lower-cased ASCII text
 * tokenizes), a few whole words, then letter pairs and triples up to the requested size.
 */

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const WHOLE_WORDS = ['the', 'a', 'is', 'of', 'and', 'to', 'in', 'hello', 'world', 'model', 'text', 'embedding'];

/** Lower-case printable ASCII, without the space (the pre-tokenizer splits on it). */
function printableCharacters(): string[] {
  const chars: string[] = [];
  for (let c = 0x21; c <= 0x7e; c++) {
    const ch = String.fromCharCode(c);
    if (ch === ch.toLowerCase()) chars.push(ch);
  }
  return chars;
}

/** The vocabulary, in id order; `size` of at least the base set (~190 tokens). */
export function wordPieceVocabulary(size: number): string[] {
  const vocab: string[] = [...SPECIAL_TOKENS];
  const seen = new Set(vocab);
  const push = (token: string) => {
    if (vocab.length < size && !seen.has(token)) {
      seen.add(token);
      vocab.push(token);
    }
  };
  for (const ch of printableCharacters()) push(ch);
  for (const ch of printableCharacters()) push(`##${ch}`);
  for (const word of WHOLE_WORDS) push(word);
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  for (const length of [2, 3]) {
    const total = letters.length ** length;
    for (let n = 0; n < total && vocab.length < size; n++) {
      let piece = '';
      for (let k = 0, m = n; k < length; k++, m = Math.floor(m / letters.length)) piece += letters[m % letters.length];
      push(piece);
      push(`##${piece}`);
    }
  }
  return vocab;
}

/** tokenizer.json for `vocab`, with `[CLS] text [SEP]` added around each sequence. */
export function wordPieceTokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const ids = Object.fromEntries(vocab.map((token, id) => [token, id]));
  const idOf = (token: string) => ids[token] as number;
  const special = (content: string) => ({
    id: idOf(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  const sep = (typeId: number) => ({ SpecialToken: { id: '[SEP]', type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep(0)],
      pair: [cls, { Sequence: { id: 'A', type_id: 0 } }, sep(0), { Sequence: { id: 'B', type_id: 1 } }, sep(1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [idOf('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [idOf('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}

/** tokenizer_config.json of a lower-casing BERT tokenizer. */
export function wordPieceTokenizerConfig(modelMaxLength: number): Record<string, unknown> {
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: modelMaxLength,
    clean_up_tokenization_spaces: true,
    pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', mask_token: '[MASK]',
  };
}
