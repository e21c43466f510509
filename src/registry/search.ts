/**
 * Text search: which words of a model search looks at, and how a match scores.
 *
 * Every store ranks by these rules, so every store answers a search alike: the JSON store scores
 * each record with `rankSearch`; the SQL stores index the words of `searchWords` and pick the
 * same best matches with their indexes (the contract suite checks all three against answers
 * written out by hand).
 */
import type { ModelMetadata } from './schema.js';

/** The words of each searched field of a model, lower-cased. */
export interface SearchWords {
  /** Id, name, display name and the Hugging Face id it came from. */
  names: readonly string[];
  /** Tags, capabilities, model type and architecture. */
  labels: readonly string[];
  description: readonly string[];
}

/**
 * What one search term scores in a model: the best of a word of a name equal to it, a word of a
 * name beginning with it, a label word equal to it, a label word beginning with it, and a
 * description word beginning with it. A model's score is the sum over the terms; a model in
 * which some term matches nothing scores 0 and is not found.
 */
export const TERM_SCORES = { nameWord: 10, namePrefix: 6, labelWord: 5, labelPrefix: 3, description: 1 } as const;

const WORD = /[^\p{L}\p{N}]+/u;
// Case changes inside a word: "BertForMaskedLM" -> Bert, For, Masked, LM; "XLMRoberta" -> XLM, Roberta.
const CAMEL = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;

/** Splits a search text into lower-case terms. */
export function searchTerms(text: string): string[] {
  return text.toLowerCase().split(WORD).filter((t) => t.length > 0);
}

/**
 * The words of a text as search finds them: each word whole, lower-cased, and also the parts of
 * a word written in camel case, so "bert" and "masked" find `BertForMaskedLM`.
 */
export function textWords(text: string): string[] {
  const words: string[] = [];
  for (const token of text.split(WORD)) {
    if (token === '') continue;
    words.push(token.toLowerCase());
    const parts = token.split(CAMEL);
    if (parts.length > 1) for (const part of parts) words.push(part.toLowerCase());
  }
  return words;
}

/** The Hugging Face id of a model's source URL (`https://huggingface.co/org/name`), if it has one. */
export function huggingFaceId(sourceUrl: string | undefined): string | undefined {
  return sourceUrl === undefined ? undefined : /^https?:\/\/(?:www\.)?huggingface\.co\/(?:models\/)?([^/?#]+\/[^/?#]+)/i.exec(sourceUrl)?.[1];
}

/** The words search looks at in a model, by field. */
export function searchWords(model: ModelMetadata): SearchWords {
  return {
    names: textWords([model.modelId, model.modelName, model.displayName ?? '', huggingFaceId(model.sourceUrl) ?? ''].join(' ')),
    labels: textWords([...model.tags, ...model.capabilities, model.modelType, model.architecture].join(' ')),
    description: textWords(model.description),
  };
}

/** What a term scores in names and labels alone (0 when it is in neither). */
function nameOrLabelScore(words: SearchWords, term: string): number {
  if (words.names.includes(term)) return TERM_SCORES.nameWord;
  if (words.names.some((w) => w.startsWith(term))) return TERM_SCORES.namePrefix;
  if (words.labels.includes(term)) return TERM_SCORES.labelWord;
  if (words.labels.some((w) => w.startsWith(term))) return TERM_SCORES.labelPrefix;
  return 0;
}

/** How well a model's words match every term (0 = some term matches nothing); see TERM_SCORES. */
export function scoreWords(words: SearchWords, terms: readonly string[]): number {
  if (terms.length === 0) return 0;
  let score = 0;
  for (const term of terms) {
    const best = nameOrLabelScore(words, term) || (words.description.some((w) => w.startsWith(term)) ? TERM_SCORES.description : 0);
    if (best === 0) return 0;
    score += best;
  }
  return score;
}

export interface SearchHit {
  model: ModelMetadata;
  score: number;
}

/** How well a model matches every term (0 = some term matches nothing); see TERM_SCORES. */
export function scoreModel(model: ModelMetadata, terms: readonly string[]): number {
  return scoreWords(searchWords(model), terms);
}

/**
 * Scores every candidate and keeps the best `limit`, best first, ties by modelId.
 * @param wordsOf where each model's words come from; a store that keeps records in memory may cache them. Defaults to `searchWords`.
 */
export function rankSearch(candidates: Iterable<ModelMetadata>, text: string, limit = 50, wordsOf = searchWords): SearchHit[] {
  const terms = searchTerms(text);
  const hits: SearchHit[] = [];
  for (const model of candidates) {
    const score = scoreWords(wordsOf(model), terms);
    if (score > 0) hits.push({ model, score });
  }
  hits.sort((a, b) => b.score - a.score || (a.model.modelId < b.model.modelId ? -1 : 1));
  return hits.slice(0, Math.max(0, limit));
}
