/**
 * How the SQLite store finds the best matches of a search in its FTS5 index: exactly the models,
 * scores and order that rankSearch gives, without scoring every model that matches.
 *
 * The index holds each field's search words (search.ts), so an FTS query on one column tells
 * exactly which models a term matches there as a word (`"t"`) or a word's start (`"t"*`).
 */
import type Database from 'better-sqlite3';
import { TERM_SCORES } from '../search.js';

/** One of the best matches: the row of the models table, its id and its score. */
export interface Match {
  rowid: number;
  modelId: string;
  score: number;
}

type Prepare = (sql: string) => Database.Statement;

const phrase = (term: string) => `"${term.replace(/"/g, '""')}"`;

/** The best `limit` matches of the (lower-case) search terms, best first, ties by model id. */
export function bestMatches(prepare: Prepare, terms: readonly string[], limit: number): Match[] {
  if (terms.length === 0 || limit <= 0) return [];
  return terms.length === 1 ? bestForOneTerm(prepare, terms[0]!, limit) : bestForTerms(prepare, terms, limit);
}

// A tier of up to this many matches is sorted by id; a larger one is read along the id index.
const SMALL_TIER = 2000;

/**
 * The rows an FTS query matches, less those already taken, lowest model ids first, each scoring
 * `score`. A result's ties are broken by id, which no FTS rank orders by: a few matches are
 * looked up and sorted; many are found by walking the id index in order, testing each entry
 * against the set of matches, until enough turn up (a tenth of the registry matching "llama" at
 * 100,000 models: 1 ms, where looking up and sorting them all takes 7).
 */
function lowestIds(prepare: Prepare, match: string, taken: readonly Match[], count: number, score: number): Match[] {
  const takenRows = JSON.stringify(taken.map((m) => m.rowid));
  const few = prepare(`SELECT rowid FROM models_fts WHERE models_fts MATCH ? LIMIT ${SMALL_TIER + 1}`).pluck().all(match) as number[];
  const rows = few.length <= SMALL_TIER
    ? prepare(`SELECT rowid, model_id AS modelId FROM models WHERE rowid IN (SELECT value FROM json_each(?))
        AND rowid NOT IN (SELECT value FROM json_each(?)) ORDER BY model_id LIMIT ?`).all(JSON.stringify(few), takenRows, count)
    // sqlite_autoindex_models_1 is the index of model_id's UNIQUE constraint, in every schema.
    : prepare(`SELECT rowid, model_id AS modelId FROM models INDEXED BY sqlite_autoindex_models_1
        WHERE rowid IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ?) AND rowid NOT IN (SELECT value FROM json_each(?))
        ORDER BY model_id LIMIT ?`).all(match, takenRows, count);
  return (rows as Omit<Match, 'score'>[]).map((r) => ({ ...r, score }));
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
 * Several terms: the models where some term is in a name or label are scored by SQLite from
 * their indexed words (`instr` on the space-separated words finds a word, ' t ', or a word's
 * start, ' t'); every other model matching all terms has them only in its description, scores
 * one per term, less than any of the first, and comes after them by id.
 */
function bestForTerms(prepare: Prepare, terms: readonly string[], limit: number): Match[] {
  const everywhere = terms.map((t) => `${phrase(t)}*`).join(' AND ');
  const strong = `(${terms.map((t) => `{names labels} : ${phrase(t)}*`).join(' OR ')}) AND ${everywhere}`;
  const termScore = `(CASE WHEN instr(' ' || names || ' ', ?) THEN ${TERM_SCORES.nameWord} WHEN instr(' ' || names, ?) THEN ${TERM_SCORES.namePrefix}
    WHEN instr(' ' || labels || ' ', ?) THEN ${TERM_SCORES.labelWord} WHEN instr(' ' || labels, ?) THEN ${TERM_SCORES.labelPrefix}
    ELSE ${TERM_SCORES.description} END)`;
  const values = terms.flatMap((t) => [` ${t} `, ` ${t}`, ` ${t} `, ` ${t}`]);
  const best = prepare(`SELECT rowid, model_id AS modelId, ${terms.map(() => termScore).join(' + ')} AS score FROM models_fts
    WHERE models_fts MATCH ? ORDER BY score DESC, model_id LIMIT ?`).all(...values, strong, limit) as Match[];
  if (best.length < limit) best.push(...lowestIds(prepare, everywhere, best, limit - best.length, terms.length * TERM_SCORES.description));
  return best;
}
