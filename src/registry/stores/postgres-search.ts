/**
 * Text search in PostgreSQL: a tsvector per model of the words `searchWords` makes, and the
 * queries that pick exactly the models, scores and order `rankSearch` gives, without scoring every
 * model that matches.
 *
 * Each word is stored once per field it is in, marked by the field: `1` names, `2` labels, `3` the
 * description (`'1llama' '2chat' '3fast'`). "A name word begins with the term" is then a plain
 * lexeme prefix (`'1t':*`) the GIN index answers exactly. Weights (A/B/C) would say the same, but
 * a weighted match is checked row by row in the table: a common description word made a name
 * query read a third of it.
 *
 * Both are written as literals (tsvector and tsquery input syntax), not through to_tsvector:
 * the server's text search parser and locale then play no part, and every word is a lexeme as is.
 */
import type { ModelMetadata } from '../schema.js';
import { TERM_SCORES, searchWords } from '../search.js';

/**
 * Longest term searched for, in characters. A longer word is stored cut to one character more,
 * which no term equals and every term it begins with still begins (a lexeme takes at most 2047
 * bytes: 501 characters of 4 bytes and the field mark fit).
 */
const MAX_TERM_LENGTH = 500;
/** Most distinct description words kept (a tsvector holds at most 1 MB). */
const MAX_DESCRIPTION_WORDS = 20_000;

const NAMES = '1';
const LABELS = '2';
const DESCRIPTION = '3';

const cut = (word: string) => (word.length <= MAX_TERM_LENGTH ? word : [...word].slice(0, MAX_TERM_LENGTH + 1).join(''));

/** The tsvector of a model: every word of its names, labels and description, marked by its field. */
export function searchVector(model: ModelMetadata): string {
  const words = searchWords(model);
  const lexemes: string[] = [];
  const add = (field: string, fieldWords: readonly string[], max = Infinity) => {
    // The words of searchWords hold letters and digits only: no quote or backslash can reach the literal.
    for (const word of [...new Set(fieldWords.map(cut))].slice(0, max)) lexemes.push(`'${field}${word}'`);
  };
  add(NAMES, words.names);
  add(LABELS, words.labels);
  add(DESCRIPTION, words.description, MAX_DESCRIPTION_WORDS);
  return lexemes.join(' ');
}

/** One of the best matches: its record and its score. */
export interface Match {
  modelId: string;
  model: ModelMetadata;
  score: number;
}

/** A row a search query returns. */
export type SearchRow = { model_id: string; data: ModelMetadata; score?: number };

/** Runs one query of a search; the store runs it, or explains it. */
export type RunSearchQuery = (sql: string, values: unknown[]) => Promise<SearchRow[]>;

const lexeme = (field: string, term: string, prefix: boolean) => `'${field}${term}'${prefix ? ':*' : ''}`;
/** The term as a word of any of `fields`, or a word's start. */
const anyOf = (fields: readonly string[], term: string, prefix: boolean) => `(${fields.map((f) => lexeme(f, term, prefix)).join(' | ')})`;

/**
 * The best `limit` matches of the (lower-case) search terms in the models table `table`, best
 * first, ties by model id.
 */
export async function bestMatches(run: RunSearchQuery, table: string, terms: readonly string[], limit: number): Promise<Match[]> {
  if (terms.length === 0 || limit <= 0 || terms.some((t) => [...t].length > MAX_TERM_LENGTH)) return [];
  return terms.length === 1 ? bestForOneTerm(run, table, terms[0]!, limit) : bestForTerms(run, table, terms, limit);
}

/**
 * The models a tsquery matches, less those already taken, lowest model ids first, each scoring
 * `score`. PostgreSQL finds a few matches through the GIN index and sorts them; for a common word
 * it walks the primary key in id order and tests each row, until enough turn up.
 */
async function lowestIds(run: RunSearchQuery, table: string, query: string, taken: readonly Match[], count: number, score: number): Promise<Match[]> {
  const rows = await run(`SELECT model_id, data FROM ${table} WHERE search @@ $1::tsquery AND NOT (model_id = ANY($2::text[])) ORDER BY model_id LIMIT $3`,
    [query, taken.map((m) => m.modelId), count]);
  return rows.map((r) => ({ modelId: r.model_id, model: r.data, score }));
}

/**
 * One term scores the same in every model of a tier (a name word, a name word's start, a label
 * word, ...), best tier first: a tier is read only when the ones before it held too few, so every
 * model of those was taken and a model first met in a tier scores exactly that tier.
 */
async function bestForOneTerm(run: RunSearchQuery, table: string, term: string, limit: number): Promise<Match[]> {
  const tiers: [string, number][] = [
    [lexeme(NAMES, term, false), TERM_SCORES.nameWord],
    [lexeme(NAMES, term, true), TERM_SCORES.namePrefix],
    [lexeme(LABELS, term, false), TERM_SCORES.labelWord],
    [lexeme(LABELS, term, true), TERM_SCORES.labelPrefix],
    [lexeme(DESCRIPTION, term, true), TERM_SCORES.description],
  ];
  const taken: Match[] = [];
  for (const [query, score] of tiers) {
    taken.push(...(await lowestIds(run, table, query, taken, limit - taken.length, score)));
    if (taken.length >= limit) break;
  }
  return taken;
}

/**
 * Several terms: the models where some term is in a name or label are scored by PostgreSQL, term
 * by term; every other model matching all terms has them only in its description, scores one per
 * term, less than any of the first, and comes after them by id.
 */
async function bestForTerms(run: RunSearchQuery, table: string, terms: readonly string[], limit: number): Promise<Match[]> {
  const everywhere = terms.map((t) => anyOf([NAMES, LABELS, DESCRIPTION], t, true)).join(' & ');
  const strong = `(${terms.map((t) => anyOf([NAMES, LABELS], t, true)).join(' | ')}) & ${everywhere}`;
  const values: unknown[] = [strong, limit];
  const param = (value: string) => `$${values.push(value)}::tsquery`;
  const termScore = (t: string) => `(CASE WHEN search @@ ${param(lexeme(NAMES, t, false))} THEN ${TERM_SCORES.nameWord}
    WHEN search @@ ${param(lexeme(NAMES, t, true))} THEN ${TERM_SCORES.namePrefix}
    WHEN search @@ ${param(lexeme(LABELS, t, false))} THEN ${TERM_SCORES.labelWord}
    WHEN search @@ ${param(lexeme(LABELS, t, true))} THEN ${TERM_SCORES.labelPrefix} ELSE ${TERM_SCORES.description} END)`;
  const score = terms.map(termScore).join(' + ');
  const rows = await run(`SELECT model_id, data, ${score} AS score FROM ${table} WHERE search @@ $1::tsquery ORDER BY score DESC, model_id LIMIT $2`, values);
  const best: Match[] = rows.map((r) => ({ modelId: r.model_id, model: r.data, score: Number(r.score) }));
  if (best.length < limit) best.push(...(await lowestIds(run, table, everywhere, best, limit - best.length, terms.length * TERM_SCORES.description)));
  return best;
}
