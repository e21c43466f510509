/**
 * Text search in PostgreSQL: a weighted tsvector per model and tsquery tiers, built from the
 * words `searchTerms` makes, so PostgreSQL finds exactly the candidates the other stores find.
 *
 * Both are written as literals (tsvector and tsquery input syntax), not through to_tsvector:
 * the server's text search parser and locale then play no part, and every word is a lexeme as is.
 */
import { searchTerms } from '../query.js';
import type { ModelMetadata } from '../schema.js';

/** Longest word kept (a lexeme may take 2047 bytes; 4-byte characters included). */
const MAX_WORD_LENGTH = 500;
/** Most distinct description words kept (a tsvector holds at most 1 MB). */
const MAX_DESCRIPTION_WORDS = 20_000;

/** The tsvector of a model: names weigh A, tags B, the description C; each word once per weight. */
export function searchVector(model: ModelMetadata): string {
  const entries = new Map<string, string[]>();
  const add = (text: string, entry: string, max = Infinity) => {
    let n = 0;
    for (const word of new Set(searchTerms(text))) {
      if (word.length > MAX_WORD_LENGTH) continue;
      if (++n > max) break;
      const list = entries.get(word);
      if (list) list.push(entry);
      else entries.set(word, [entry]);
    }
  };
  add(`${model.modelId} ${model.modelName} ${model.displayName ?? ''}`, '1A');
  add(model.tags.join(' '), '2B');
  add(model.description, '3C', MAX_DESCRIPTION_WORDS);
  // searchTerms keeps letters and digits only: no quote or backslash can reach the literal.
  return [...entries].map(([word, at]) => `'${word}':${at.join(',')}`).join(' ');
}

/**
 * The tsqueries of a search, best tier first, as `rankSearch` scores: for one term a name word
 * it is, one it begins, a tag word it is, one it begins, then any word; for several, every term
 * beginning a name word, then a name or tag word, then any word.
 */
export function searchTiers(terms: readonly string[]): string[] {
  // No stored word is longer than MAX_WORD_LENGTH, so a longer term matches nothing.
  if (terms.length === 0 || terms.some((t) => t.length > MAX_WORD_LENGTH)) return [];
  const match = (suffix: string) => terms.map((t) => `'${t}':${suffix}`).join(' & ');
  return terms.length === 1 ? ['A', '*A', 'B', '*B', '*'].map(match) : ['*A', '*AB', '*'].map(match);
}
