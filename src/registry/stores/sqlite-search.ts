/**
 * How the SQLite store finds the best matches of a search in its FTS5 index: exactly the models,
 * scores and order that rankSearch gives, without scoring every model that matches.
 *
 * The index holds each field's search words (search.ts), so an FTS query on one column tells
 * exactly which models a term matches there as a word (`"t"`) or a word's start (`"t"*`).
 */
import type Database from 'better-sqlite3';
import { TERM_SCORES, compareHits, nameOrLabelScore } from '../search.js';

/** One of the best matches: the row of the models table, its id and its score. */
export interface Match {
  rowid: number;
  modelId: string;
  score: number;
}

type Prepare = (sql: string) => Database.Statement;

const phrase = (term: string) => `"${term.replace(/"/g, '""')}"`;

// The rows an FTS query matches, less some already taken, lowest model ids first. Ordering by
// model_id reads each match's id (~9 ms for 25,000 matches at 100,000 models), which no FTS
// rank would spare: a result's ties are broken by id.
const LOWEST_IDS = `SELECT rowid, model_id AS modelId FROM models WHERE rowid IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ?)
  AND rowid NOT IN (SELECT value FROM json_each(?)) ORDER BY model_id LIMIT ?`;

/** The best `limit` matches of the (lower-case) search terms, best first, ties by model id. */
export function bestMatches(prepare: Prepare, terms: readonly string[], limit: number): Match[] {
  if (terms.length === 0 || limit <= 0) return [];
  return terms.length === 1 ? bestForOneTerm(prepare, terms[0]!, limit) : bestForTerms(prepare, terms, limit);
}

/** Rows matching `match` that are not in `taken`, lowest ids first, each scoring `score`. */
function lowestIds(prepare: Prepare, match: string, taken: readonly Match[], count: number, score: number): Match[] {
  const rows = prepare(LOWEST_IDS).all(match, JSON.stringify(taken.map((m) => m.rowid)), count) as Omit<Match, 'score'>[];
  return rows.map((r) => ({ ...r, score }));
}

/**
 * One term scores the same in every model of a tier (a name word, a name word's start, a label
 * word, ...), best tier first: a tier is read only when the ones before it held too few, so
 * every model of those was taken and a model first met in a tier scores exactly that tier.
 */
function bestForOneTerm(prepare: Prepare, term: string, limit: number): Match[] {
  const t = phrase(term);
  const tiers: [string, number][] = [
    [`{names} : ${t}`, TERM_SCORES.nameWord],
    [`{names} : ${t}*`, TERM_SCORES.namePrefix],
    [`{labels} : ${t}`, TERM_SCORES.labelWord],
    [`{labels} : ${t}*`, TERM_SCORES.labelPrefix],
    [`{description} : ${t}*`, TERM_SCORES.description],
  ];
  const taken: Match[] = [];
  for (const [match, score] of tiers) {
    taken.push(...lowestIds(prepare, match, taken, limit - taken.length, score));
    if (taken.length >= limit) break;
  }
  return taken;
}

/**
 * Several terms: the models where some term is in a name or label are scored from their indexed
 * words; every other model matching all terms has them only in its description, scores one per
 * term, less than any of the first, and comes after them by id.
 */
function bestForTerms(prepare: Prepare, terms: readonly string[], limit: number): Match[] {
  const everywhere = terms.map((t) => `${phrase(t)}*`).join(' AND ');
  const strong = `(${terms.map((t) => `{names labels} : ${phrase(t)}*`).join(' OR ')}) AND ${everywhere}`;
  const scored: Match[] = [];
  const rows = prepare(`SELECT rowid, model_id, names, labels FROM models_fts WHERE models_fts MATCH ?`).raw().iterate(strong) as Iterable<[number, string, string, string]>;
  for (const [rowid, modelId, names, labels] of rows) {
    const words = { names: names.split(' '), labels: labels.split(' ') };
    let score = 0;
    for (const term of terms) score += nameOrLabelScore(words, term) || TERM_SCORES.description;
    scored.push({ rowid, modelId, score });
  }
  const best = scored.sort(compareHits).slice(0, limit);
  if (best.length < limit) best.push(...lowestIds(prepare, everywhere, scored, limit - best.length, terms.length * TERM_SCORES.description));
  return best;
}
