/**
 * Filters and sorting shared by every store (text search is in search.ts).
 *
 * SQL stores translate a ModelFilter into indexed queries; the JSON store uses `matchesFilter`
 * directly; the contract suite holds every store to the same answers.
 */
import type { ModelMetadata } from './schema.js';

/** One value, or several meaning "any of them". */
export type OneOrMany<T> = T | readonly T[];

export const SORT_FIELDS = ['modelId', 'modelName', 'parameterCount', 'contextLength', 'createdAt', 'updatedAt'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface ModelFilter {
  /** Model type(s), e.g. `decoder_only`. */
  modelType?: OneOrMany<string>;
  /** Architecture(s), matched without regard to case, e.g. `LlamaForCausalLM`. */
  architecture?: OneOrMany<string>;
  /** Tags the model must all carry. */
  tags?: readonly string[];
  /** Models taking any of these input data types. */
  inputType?: OneOrMany<string>;
  /** Models producing any of these output data types. */
  outputType?: OneOrMany<string>;
  attentionType?: OneOrMany<string>;
  format?: OneOrMany<string>;
  source?: OneOrMany<string>;
  minParams?: number;
  maxParams?: number;
  /** Only models whose `memoryEstimate.totalBytes` is known and at most this many bytes. */
  fitsBytes?: number;
  /** Only models whose `localPath` is exactly this (an indexed lookup in every store). */
  localPath?: string;
  /**
   * Only models someone who is no admin and belongs to these groups may see (isVisibleTo): the
   * public ones, and the restricted ones sharing one of the groups. Counts, stats and pages of what
   * one caller may see then come from the store's index, not from reading every record.
   */
  visibleToGroups?: readonly string[];
  /** The opposite: only models someone who is no admin and belongs to these groups may not see (HiddenModels). */
  hiddenFromGroups?: readonly string[];
  /** Defaults to `modelId`. */
  sort?: SortField;
  /** Defaults to `asc`. */
  order?: 'asc' | 'desc';
  /** Defaults to no limit. */
  limit?: number;
  /** Defaults to 0. */
  offset?: number;
}

/** Turns a one-or-many into a list, dropping empties; undefined when nothing is asked. */
export function manyOf<T>(value: OneOrMany<T> | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? [...value] : [value as T]).filter((v) => v !== undefined && v !== '');
  return list.length > 0 ? list : undefined;
}

/** Normalises the enum-like filter values the way the schema normalises stored values. */
export function normalizeFilter(filter: ModelFilter): ModelFilter {
  const lower = (v: OneOrMany<string> | undefined) => manyOf(v)?.map((s) => s.toLowerCase().replace(/-/g, '_'));
  const upper = (v: OneOrMany<string> | undefined) => manyOf(v)?.map((s) => s.toUpperCase());
  return {
    ...filter,
    modelType: lower(filter.modelType),
    architecture: manyOf(filter.architecture)?.map((s) => s.toLowerCase()),
    attentionType: manyOf(filter.attentionType)?.map((s) => s.toLowerCase()),
    format: manyOf(filter.format)?.map((s) => s.toLowerCase()),
    source: manyOf(filter.source)?.map((s) => s.toLowerCase()),
    inputType: upper(filter.inputType),
    outputType: upper(filter.outputType),
    tags: filter.tags && filter.tags.length > 0 ? [...filter.tags] : undefined,
  };
}

/**
 * True when someone who is no admin and belongs to `groups` may see the model: it is public, or
 * restricted to a group they share. (An admin sees every model.)
 */
export function isVisibleTo(model: Pick<ModelMetadata, 'accessLevel' | 'groups'>, groups: readonly string[]): boolean {
  return model.accessLevel === 'public' || (model.accessLevel === 'restricted' && model.groups.some((g) => groups.includes(g)));
}

/** True when the model passes every condition of the (normalised) filter. */
export function matchesFilter(model: ModelMetadata, f: ModelFilter): boolean {
  const inList = (list: OneOrMany<string> | undefined, value: string | undefined) =>
    list === undefined || (value !== undefined && (list as readonly string[]).includes(value));
  if (!inList(f.modelType, model.modelType)) return false;
  if (!inList(f.architecture, model.architecture.toLowerCase())) return false;
  if (!inList(f.attentionType, model.attentionType)) return false;
  if (!inList(f.format, model.format)) return false;
  if (!inList(f.source, model.source)) return false;
  if (f.tags && !f.tags.every((t) => model.tags.includes(t))) return false;
  const inputs = f.inputType as readonly string[] | undefined;
  if (inputs && !model.inputs.some((io) => inputs.includes(io.dataType))) return false;
  const outputs = f.outputType as readonly string[] | undefined;
  if (outputs && !model.outputs.some((io) => outputs.includes(io.dataType))) return false;
  if (f.minParams !== undefined && !(model.parameterCount !== undefined && model.parameterCount >= f.minParams)) return false;
  if (f.maxParams !== undefined && !(model.parameterCount !== undefined && model.parameterCount <= f.maxParams)) return false;
  if (f.localPath !== undefined && model.localPath !== f.localPath) return false;
  if (f.visibleToGroups !== undefined && !isVisibleTo(model, f.visibleToGroups)) return false;
  if (f.hiddenFromGroups !== undefined && isVisibleTo(model, f.hiddenFromGroups)) return false;
  if (f.fitsBytes !== undefined) {
    const total = model.memoryEstimate?.totalBytes;
    if (total === undefined || total > f.fitsBytes) return false;
  }
  return true;
}

/** Orders models by the filter's sort field; missing values last, ties by modelId. */
export function compareModels(sort: SortField = 'modelId', order: 'asc' | 'desc' = 'asc') {
  const dir = order === 'desc' ? -1 : 1;
  return (a: ModelMetadata, b: ModelMetadata): number => {
    const av = a[sort];
    const bv = b[sort];
    if (av !== bv) {
      if (av === undefined) return 1;
      if (bv === undefined) return -1;
      if (av < bv) return -dir;
      if (av > bv) return dir;
    }
    return a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0;
  };
}

/** Applies offset and limit to an already sorted list. */
export function page<T>(items: T[], filter: Pick<ModelFilter, 'limit' | 'offset'>): T[] {
  const start = Math.max(0, filter.offset ?? 0);
  return filter.limit === undefined ? items.slice(start) : items.slice(start, start + Math.max(0, filter.limit));
}
