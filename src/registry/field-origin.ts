/**
 * Who set a stored value: a machine (discovery reading files; import, sync, pull or static sync
 * reading a config and a card) or a person (an edit, a rollback, a metadata file restored). A
 * machine that reads a model again changes only the fields that still hold what a machine set,
 * or nothing: a value a person set wins over what a machine finds.
 *
 * Told from the registry's own version history, so it holds for every store, on every host
 * sharing a registry, and after any index is lost: the version that introduced a field's current
 * value is the one after the newest version holding another value, and its change note says who
 * wrote it. Each machine writer defines its notes beside itself (discovery/change-notes.ts,
 * hub/change-notes.ts); this module is the one place that knows them all.
 */
import { isDeepStrictEqual } from 'node:util';
import { isDiscoveryChange } from '../discovery/change-notes.js';
import { isHubChange } from '../hub/change-notes.js';
import type { Registry } from './registry.js';
import type { ModelMetadata } from './schema.js';

/** True for a version a machine wrote (discovery, import, sync, pull, static sync). */
export const isMachineChange = (change: string): boolean => isDiscoveryChange(change) || isHubChange(change);

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
 * The fields among `paths` whose current value a machine set, each with that value (a caller
 * changes the field only while it still holds it: someone may edit it meanwhile). Reads the
 * model's versions back from the newest until each field's value is traced to the version that
 * introduced it; a history machines alone wrote is answered from the list of versions.
 */
export async function valuesSetByMachine(registry: Registry, modelId: string, paths: readonly string[]): Promise<Map<string, unknown>> {
  const owned = new Map<string, unknown>();
  if (paths.length === 0) return owned;
  const current = await registry.getModel(modelId);
  const versions = (await registry.listVersions(modelId)).sort((a, b) => a.version - b.version);
  if (!current || versions.length === 0) return owned;
  const setBy = (path: string, i: number) => {
    if (isMachineChange(versions[i]!.change)) owned.set(path, fieldValue(current, path));
  };
  if (versions.every((v) => isMachineChange(v.change))) {
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

/** What a machine read of a model: the record its source makes, and the fields the source gave (the rest are the registry's defaults). */
export interface Finding {
  record: ModelMetadata;
  /** Fields the source gave: top-level keys, and `custom.<key>` for each key of `custom` (see fieldValue). */
  paths: string[];
}

/** Fields that describe the files themselves: always the machine's that read them. */
const FILE_FIELDS = new Set(['localPath', 'files', 'status', 'revision']);

const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v).length === 0);

/** A category set by hand: machines leave it alone whoever wrote it last. */
const manualCategory = (stored: ModelMetadata, path: string) => path === 'category' && stored.category?.manual === true;

/** Whether `path` of the finding changes the stored record, and may do so whoever set the stored value. */
function change(stored: ModelMetadata, found: Finding, path: string): { changes: boolean; free: boolean } {
  const was = fieldValue(stored, path);
  const now = fieldValue(found.record, path);
  // A machine that does not find a value erases none; a category set by hand stays.
  if (now === undefined || sameJson(was, now) || manualCategory(stored, path)) return { changes: false, free: false };
  return { changes: true, free: FILE_FIELDS.has(path) || isEmpty(was) };
}

/** Fields of the finding whose stored value differs and may have been set by a person: the ones to ask valuesSetByMachine about. */
export function contestedPaths(stored: ModelMetadata, found: Finding): string[] {
  return found.paths.filter((path) => {
    const { changes, free } = change(stored, found, path);
    return changes && !free;
  });
}

/**
 * Merges what a machine found into the stored record. Only fields the finding gave are touched
 * (never access, groups, aliases, metrics, ...), and of those only the ones that are empty,
 * describe the files themselves, or still hold the value a machine set (`owned`, from
 * valuesSetByMachine): a value a person set wins, as does a category set by hand.
 * Undefined when nothing changes.
 */
export function mergeFinding(stored: ModelMetadata, found: Finding, owned: ReadonlyMap<string, unknown>): ModelMetadata | undefined {
  const merged: ModelMetadata = { ...stored, custom: { ...stored.custom } };
  let changed = false;
  for (const path of found.paths) {
    const { changes, free } = change(stored, found, path);
    if (!changes || !(free || (owned.has(path) && sameJson(owned.get(path), fieldValue(stored, path))))) continue;
    // Defined, not assigned: a key from a file is a key, even `__proto__`.
    const [target, key] = path.startsWith('custom.') ? [merged.custom!, path.slice('custom.'.length)] : [merged, path];
    Object.defineProperty(target, key, { value: fieldValue(found.record, path), enumerable: true, writable: true, configurable: true });
    changed = true;
  }
  if (stored.custom === undefined && Object.keys(merged.custom!).length === 0) delete merged.custom;
  return changed ? merged : undefined;
}

/**
 * Writes what a machine found over a stored model as a new version with the machine's `note`,
 * keeping every value a person set (see mergeFinding). Undefined, and no version made, when
 * nothing the machine may change differs.
 * @throws ModelManagerError MODEL_NOT_FOUND, INVALID_METADATA
 */
export async function updateFromFinding(registry: Registry, found: Finding, note: string): Promise<ModelMetadata | undefined> {
  const modelId = found.record.modelId;
  const stored = await registry.requireModel(modelId);
  const owned = await valuesSetByMachine(registry, modelId, contestedPaths(stored, found));
  if (!mergeFinding(stored, found, owned)) return undefined;
  return registry.updateModel(modelId, (current) => mergeFinding(current, found, owned) ?? current, note);
}
