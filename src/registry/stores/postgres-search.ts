/**
 * Text search in PostgreSQL: a tsvector per model and tsquery tiers, built from the words
 * `searchTerms` makes, so PostgreSQL finds exactly the candidates the other stores find.
 *
 * Each word is stored once per field it is in, marked by the field: `1` names, `2` tags, `3` the
 * description (`'1llama' '2chat' '3fast'`). A tier such as "a name word begins with the term" is
 * then a plain lexeme prefix the GIN index answers exactly. Weights (A/B/C) would say the same,
 * but a weighted match is checked row by row in the table: a common description word made the
 * name tier read a third of it.
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

const NAMES = '1';
const TAGS = '2';
const DESCRIPTION = '3';

/** The tsvector of a model: every word of its names, tags and description, marked by its field. */
export function searchVector(model: ModelMetadata): string {
  const lexemes: string[] = [];
  const add = (field: string, text: string, max = Infinity) => {
    let n = 0;
    for (const word of new Set(searchTerms(text))) {
      if (word.length > MAX_WORD_LENGTH) continue;
      if (++n > max) break;
      // searchTerms keeps letters and digits only: no quote or backslash can reach the literal.
      lexemes.push(`'${field}${word}'`);
    }
  };
  add(NAMES, `${model.modelId} ${model.modelName} ${model.displayName ?? ''}`);
  add(TAGS, model.tags.join(' '));
  add(DESCRIPTION, model.description, MAX_DESCRIPTION_WORDS);
  return lexemes.join(' ');
}

/**
 * The tsqueries of a search, best tier first, as `rankSearch` scores: for one term a name word it
 * is, one it begins, a tag word it is, one it begins, then any word; for several, every term a name
 * word, beginning one, a name or tag word, beginning one, then any word.
 *
 * A prefix match (`:*`) makes the GIN index gather every entry the prefix begins before it can
 * intersect them: tens of ms for a common word. Each prefix tier therefore follows the exact tier
 * of the same fields, which is cheap and often fills the candidate pool first (and its candidates
 * score higher). Asking first whether each term begins some word at all was tried, and was far
 * worse: PostgreSQL answered EXISTS for a word no model has by reading the whole table.
 */
export function searchTiers(terms: readonly string[]): string[] {
  // No stored word is longer than MAX_WORD_LENGTH, so a longer term matches nothing.
  if (terms.length === 0 || terms.some((t) => t.length > MAX_WORD_LENGTH)) return [];
  const every = (fields: string[], prefix: boolean) =>
    terms.map((t) => `(${fields.map((f) => `'${f}${t}'${prefix ? ':*' : ''}`).join(' | ')})`).join(' & ');
  const fieldSets = terms.length === 1 ? [[NAMES], [TAGS]] : [[NAMES], [NAMES, TAGS]];
  return [...fieldSets, [NAMES, TAGS, DESCRIPTION]].flatMap((fields) => [every(fields, false), every(fields, true)]);
}
