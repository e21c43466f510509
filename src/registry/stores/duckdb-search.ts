/**
 * How the DuckDB store finds the best matches of a search: exactly the models, scores and order
 * that rankSearch gives, reading as few of the search columns as the answer allows.
 *
 * DuckDB has no text index here (no FTS extension: nothing is downloaded), so every question is a
 * scan of a column; what costs is how many strings each scan tests, and how long they are. Each
 * column keeps its words between spaces (`contains(column, ' t ')` finds the word t,
 * `contains(column, ' t')` a word beginning with t): search_names (short), search_names_labels
 * (the words of names and labels together) and search_text (the description's).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { TERM_SCORES } from '../search.js';
import { rows } from './duckdb-schema.js';

/** One of the best matches: its id and its score. */
export interface Match {
  modelId: string;
  score: number;
}

const word = (term: string) => ` ${term} `;
const wordStart = (term: string) => ` ${term}`;

/**
 * A term's score in a model that matches it: a description's 1 when it begins no word of a name
 * or label (asked first: most matches of a description word are that), else checked best first,
 * so a word of search_names_labels that no name word begins is a label's.
 */
const TERM_SCORE = `CASE WHEN NOT contains(search_names_labels, ?) THEN ${TERM_SCORES.description}
  WHEN contains(search_names, ?) THEN ${TERM_SCORES.nameWord} WHEN contains(search_names, ?) THEN ${TERM_SCORES.namePrefix}
  WHEN contains(search_names_labels, ?) THEN ${TERM_SCORES.labelWord} ELSE ${TERM_SCORES.labelPrefix} END`;
const termScoreValues = (term: string) => [wordStart(term), word(term), wordStart(term), word(term)];

const inNamesOrLabels = 'contains(search_names_labels, ?)';

/**
 * The most a model can score where some term is in its description only (1) and every other term
 * scores its best: a name word's 10 where some name has the word, a name word's start where one
 * has that, else a label word's 5. One scan of the names, usually short.
 */
async function otherBest(c: DuckDBConnection, terms: readonly string[]): Promise<number> {
  const checks = terms.flatMap((_, i) => [`bool_or(contains(search_names, ?)) AS word${i}`, `bool_or(contains(search_names, ?)) AS start${i}`]);
  const [found] = await rows(c, `SELECT ${checks.join(', ')} FROM models WHERE ${terms.map(() => 'contains(search_names, ?)').join(' OR ')}`,
    [...terms.flatMap((t) => [word(t), wordStart(t)]), ...terms.map(wordStart)]);
  const best = terms.map((_, i) => (found?.[`word${i}`] === true ? TERM_SCORES.nameWord : found?.[`start${i}`] === true ? TERM_SCORES.namePrefix : TERM_SCORES.labelWord));
  const total = best.reduce((a, b) => a + b, 0);
  return Math.max(...best.map((b) => total - b + TERM_SCORES.description));
}

/** The best `limit` matches of the (lower-case) search terms, best first, ties by model id. */
export async function bestMatches(c: DuckDBConnection, terms: readonly string[], limit: number): Promise<Match[]> {
  if (terms.length === 0 || limit <= 0) return [];
  // One term: a model where it is a name word scores the most there is; a family name has plenty.
  if (terms.length === 1) {
    const found = await rows(c, `SELECT model_id FROM models WHERE contains(search_names, ?) ORDER BY model_id LIMIT ${limit}`, [word(terms[0]!)]);
    if (found.length === limit) return found.map((r) => ({ modelId: String(r.model_id), score: TERM_SCORES.nameWord }));
  }
  const score = terms.map(() => TERM_SCORE).join(' + ');
  const scoreValues = terms.flatMap(termScoreValues);
  const read = async (where: string, values: string[]) => (await rows(c, `SELECT model_id, ${score} AS score FROM models WHERE ${where}
    ORDER BY score DESC, model_id LIMIT ${limit}`, [...scoreValues, ...values])).map((r) => ({ modelId: String(r.model_id), score: Number(r.score) }));
  // Models where every term begins a word of a name or label: one scan, the description unread.
  const everyInNamesOrLabels = terms.map(() => inNamesOrLabels).join(' AND ');
  const strong = await read(everyInNamesOrLabels, terms.map(wordStart));
  // Any other model has some term in its description only, which scores 1, and the others at most
  // 10 each: when the `limit`-th strong match scores more, none can come before it; else a
  // closer look at what each term can score may still show it.
  const last = strong.length === limit ? strong.at(-1)!.score : 0;
  if (last > TERM_SCORES.nameWord * (terms.length - 1) + TERM_SCORES.description || (last > 0 && last > (await otherBest(c, terms)))) return strong;
  if (terms.length === 1) {
    // Every strong match was read, and every other one scores a description's 1: after them, by id.
    const taken = strong.length === 0 ? '' : `AND model_id NOT IN (${strong.map(() => '?').join(',')})`;
    const found = await rows(c, `SELECT model_id FROM models WHERE contains(search_text, ?) ${taken} ORDER BY model_id LIMIT ${limit - strong.length}`,
      [wordStart(terms[0]!), ...strong.map((m) => m.modelId)]);
    return [...strong, ...found.map((r) => ({ modelId: String(r.model_id), score: TERM_SCORES.description }))];
  }
  // Else every model where every term is somewhere is scored: a scan of the long column too.
  return read(terms.map(() => `(${inNamesOrLabels} OR contains(search_text, ?))`).join(' AND '), terms.flatMap((t) => [wordStart(t), wordStart(t)]));
}
