/**
 * How the DuckDB store finds the best matches of a search: exactly the models, scores and order
 * that rankSearch gives, reading as few of the search columns as the answer allows.
 *
 * DuckDB has no text index here (no FTS extension: nothing is downloaded), so every question is a
 * scan of a column; what costs is how many strings each scan tests, and how long they are. Each
 * column keeps its words between spaces (`contains(column, ' t ')` finds the word t,
 * `contains(column, ' t')` a word beginning with t): search_names, search_names_labels (the words
 * of names and labels, short) and search_text (the description, long).
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
 * A term's score in a model where it begins a word of a name or label: checked best first, so a
 * word of search_names_labels that no name word begins is a label's.
 */
const NAME_OR_LABEL_SCORE = `CASE WHEN contains(search_names, ?) THEN ${TERM_SCORES.nameWord}
  WHEN contains(search_names, ?) THEN ${TERM_SCORES.namePrefix}
  WHEN contains(search_names_labels, ?) THEN ${TERM_SCORES.labelWord}
  WHEN contains(search_names_labels, ?) THEN ${TERM_SCORES.labelPrefix} ELSE ${TERM_SCORES.description} END`;
const nameOrLabelValues = (term: string) => [word(term), wordStart(term), word(term), wordStart(term)];

const inNamesOrLabels = 'contains(search_names_labels, ?)';

/** Best first, ties by model id, as rankSearch orders. */
const byRank = (a: Match, b: Match) => b.score - a.score || (a.modelId < b.modelId ? -1 : 1);

/** The best `limit` matches of the (lower-case) search terms, best first, ties by model id. */
export async function bestMatches(c: DuckDBConnection, terms: readonly string[], limit: number): Promise<Match[]> {
  if (terms.length === 0 || limit <= 0) return [];
  // One term: a model where it is a name word scores the most there is; a family name has plenty.
  if (terms.length === 1) {
    const found = await rows(c, `SELECT model_id FROM models WHERE contains(search_names, ?) ORDER BY model_id LIMIT ${limit}`, [word(terms[0]!)]);
    if (found.length === limit) return found.map((r) => ({ modelId: String(r.model_id), score: TERM_SCORES.nameWord }));
  }
  const score = terms.map(() => NAME_OR_LABEL_SCORE).join(' + ');
  const scoreValues = terms.flatMap(nameOrLabelValues);
  const read = async (where: string, values: string[]) => (await rows(c, `SELECT model_id, ${score} AS score FROM models WHERE ${where}
    ORDER BY score DESC, model_id LIMIT ${limit}`, [...scoreValues, ...values])).map((r) => ({ modelId: String(r.model_id), score: Number(r.score) }));
  // Models where every term begins a word of a name or label: one scan of a short column.
  const everyInNamesOrLabels = terms.map(() => inNamesOrLabels).join(' AND ');
  const strong = await read(everyInNamesOrLabels, terms.map(wordStart));
  // Any other model has some term in its description only, and scores at most that term's 1 plus
  // the best of the others; when the `limit`-th strong match scores more, none can come before it.
  const otherBest = TERM_SCORES.nameWord * (terms.length - 1) + TERM_SCORES.description;
  if (strong.length === limit && strong.at(-1)!.score > otherBest) return strong;
  // Else the best of the others (every term somewhere, some term in the description only) join in.
  const somewhere = terms.map(() => `(${inNamesOrLabels} OR contains(search_text, ?))`).join(' AND ');
  const others = await read(`${somewhere} AND NOT (${everyInNamesOrLabels})`, [...terms.flatMap((t) => [wordStart(t), wordStart(t)]), ...terms.map(wordStart)]);
  return [...strong, ...others].sort(byRank).slice(0, limit);
}
