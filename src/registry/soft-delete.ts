/**
 * Soft delete, as the seed's `mm delete <id>` (without `--hard`) means it: the model gets a new
 * version whose `status` is `deleted`, so its history stays and `rollback` to an earlier version
 * restores it, while every read of the registry (get, list, count, search, stats) leaves it out.
 *
 * The stores know nothing of this: they find deleted models through an index every store already
 * has, a tag, so no store needs a column of its own. `status` is what makes a model deleted; the
 * tag only finds the candidates.
 */
import { page, type ModelFilter } from './query.js';
import { ModelManagerError } from '../errors.js';
import type { SearchHit } from './search.js';
import type { ModelMetadata } from './schema.js';
import type { RegistryStats, RegistryStore, StoredModel } from './stores/store.js';

/** The tag a soft-deleted model carries while it is deleted. */
export const DELETED_TAG = 'mm:deleted';

export function isDeleted(model: ModelMetadata): boolean {
  return model.status === 'deleted';
}

/** The record that hides `model`: status `deleted`, and the tag that finds it. */
export function markDeleted(model: ModelMetadata): ModelMetadata {
  return { ...model, status: 'deleted', tags: [...model.tags.filter((t) => t !== DELETED_TAG), DELETED_TAG] };
}

/**
 * The error for adding or importing under the id of a deleted model: the id is held by the
 * history kept to restore it from. The delete is the model's last version (a deleted model takes
 * no other write), so the one before it is the one to restore.
 */
export function deletedModelError({ model, version }: StoredModel, cause?: unknown): ModelManagerError {
  const id = model.modelId;
  return new ModelManagerError('MODEL_EXISTS', `model "${id}" was deleted and its history kept: restore it with \`mm rollback ${id} ${version - 1}\`, or remove it for good with \`mm delete ${id} --hard\``, {
    cause, details: { modelId: id, deleted: true, restoreVersion: version - 1 },
  });
}

/** Soft-deleted models passing a normalised filter (its paging left out). */
export async function deletedMatching(store: RegistryStore, filter: ModelFilter = {}): Promise<ModelMetadata[]> {
  const { limit: _limit, offset: _offset, ...rest } = filter;
  return (await store.list({ ...rest, tags: [...(rest.tags ?? []), DELETED_TAG] })).filter(isDeleted);
}

/**
 * A page of the models a normalised filter passes, deleted ones left out. A first page without a
 * deleted model is the store's answer as it is; otherwise the page is cut again past the deleted ones.
 */
export async function listVisible(store: RegistryStore, filter: ModelFilter): Promise<ModelMetadata[]> {
  const models = await store.list(filter);
  if (!filter.offset && !models.some(isDeleted)) return models;
  const hidden = (await deletedMatching(store, filter)).length;
  if (hidden === 0) return models;
  const offset = filter.offset ?? 0;
  // Of the first offset + limit + hidden rows, at least offset + limit are visible.
  const wider = await store.list({ ...filter, offset: 0, limit: filter.limit === undefined ? undefined : offset + filter.limit + hidden });
  return page(wider.filter((m) => !isDeleted(m)), { offset, limit: filter.limit });
}

/** How many models a normalised filter passes, deleted ones left out. */
export async function countVisible(store: RegistryStore, filter: ModelFilter): Promise<number> {
  return (await store.count(filter)) - (await deletedMatching(store, filter)).length;
}

/** The best `limit` matches that are not deleted. */
export async function searchVisible(store: RegistryStore, text: string, limit: number): Promise<SearchHit[]> {
  for (let asked = limit; ;) {
    const hits = await store.search(text, asked);
    const shown = hits.filter((h) => !isDeleted(h.model));
    if (shown.length >= limit || hits.length < asked) return shown.slice(0, limit);
    asked += hits.length - shown.length;
  }
}

/** The statistics of the models a normalised filter passes, without the deleted models and their versions. */
export async function statsVisible(store: RegistryStore, filter: ModelFilter): Promise<RegistryStats> {
  const stats = await store.stats(filter);
  for (const m of await deletedMatching(store, filter)) {
    stats.totalModels -= 1;
    stats.totalVersions -= (await store.listVersions(m.modelId)).length;
    stats.totalParameters -= m.parameterCount ?? 0;
    const groups: [Record<string, number>, string | undefined][] = [
      [stats.byType, m.modelType], [stats.byArchitecture, m.architecture], [stats.byAttentionType, m.attentionType],
      [stats.byFormat, m.format], [stats.bySource, m.source],
    ];
    for (const [counts, key] of groups) {
      if (!key || counts[key] === undefined) continue;
      counts[key] -= 1;
      if (counts[key] === 0) delete counts[key];
    }
  }
  return stats;
}
