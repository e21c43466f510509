/**
 * Who set a stored value: discovery (from the files) or someone else (a person's edit, a
 * rollback, an import). Told from the registry's own version history, so it holds for every
 * store, on every host sharing a registry, and after discovery's index is lost: the version
 * that introduced a field's current value is the one after the newest version holding another
 * value, and its change note says who wrote it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ModelMetadata, Registry } from '../registry/index.js';

/** The change notes of the versions discovery writes. */
export const DISCOVERY_CHANGES = {
  added: 'discovered',
  updated: 'discovery: files changed',
  missing: 'discovery: files missing',
  registered: 'registered from files',
} as const;

const DISCOVERY_NOTES = new Set<string>(Object.values(DISCOVERY_CHANGES));

/** True for a version discovery wrote. */
export const isDiscoveryChange = (change: string): boolean => DISCOVERY_NOTES.has(change);

/**
 * A field of a record: a top-level key, or `custom.<key>` (custom holds what metadata.json and
 * the headers add beside what people keep there, so each of its keys has an owner of its own).
 */
export function fieldValue(model: Partial<ModelMetadata>, path: string): unknown {
  if (!path.startsWith('custom.')) return (model as Record<string, unknown>)[path];
  const custom = model.custom;
  const key = path.slice('custom.'.length);
  return custom && Object.hasOwn(custom, key) ? custom[key] : undefined;
}

/** Equal as JSON: a property holding `undefined` is one that is absent (records come back from stores as JSON). */
export function sameJson(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
}

/**
 * The fields among `paths` whose current value discovery set, each with that value (a caller
 * changes the field only while it still holds it: someone may edit it meanwhile). Reads the
 * model's versions back from the newest until each field's value is traced to the version that
 * introduced it; a history discovery alone wrote is answered from the list of versions.
 */
export async function valuesSetByDiscovery(registry: Registry, modelId: string, paths: readonly string[]): Promise<Map<string, unknown>> {
  const owned = new Map<string, unknown>();
  if (paths.length === 0) return owned;
  const current = await registry.getModel(modelId);
  const versions = (await registry.listVersions(modelId)).sort((a, b) => a.version - b.version);
  if (!current || versions.length === 0) return owned;
  const setBy = (path: string, i: number) => {
    if (isDiscoveryChange(versions[i]!.change)) owned.set(path, fieldValue(current, path));
  };
  if (versions.every((v) => isDiscoveryChange(v.change))) {
    for (const path of paths) setBy(path, 0);
    return owned;
  }
  const pending = new Set(paths);
  for (let i = versions.length - 2; i >= 0 && pending.size > 0; i--) {
    const older = await registry.getVersion(modelId, versions[i]!.version);
    for (const path of pending) {
      if (sameJson(fieldValue(older, path), fieldValue(current, path))) continue;
      setBy(path, i + 1);
      pending.delete(path);
    }
  }
  // Unchanged since the first version: whoever added the model set it.
  for (const path of pending) setBy(path, 0);
  return owned;
}
