/**
 * Discovery in a registry several hosts share: a model found on host A and on host B (the same
 * id) is one entry with two locations; a scan on A records and drops A's copies only, so it never
 * marks B's copy missing. Without a host (a registry of one machine) records keep no locations
 * and a model's one copy is its `localPath`, as before.
 */
import { pathsOn, withLocation, withoutLocations, type HostLocation, type ModelMetadata, type ModelMetadataInput } from '../registry/index.js';
import { mergeFinding, type Finding } from '../registry/field-origin.js';

/** This host's copy of a found record. */
function copyOf(found: Pick<ModelMetadata, 'localPath' | 'files'>, host: string, seenAt: string): HostLocation | undefined {
  return found.localPath === undefined ? undefined : { host, path: found.localPath, files: found.files, seenAt };
}

/** A new record found on `host`, with its copy there as its first location. */
export function newRecordOn<T extends ModelMetadataInput>(record: T, host: string | undefined, seenAt: string): T {
  if (host === undefined || record.localPath === undefined) return record;
  return { ...record, locations: [{ host, path: record.localPath, files: record.files ?? [], seenAt }] };
}

/**
 * Merges a finding on `host` into the stored record (see `mergeFinding`) and records this host's
 * copy; `localPath` and `files` stay with the copy they name when that is another host's.
 * Undefined when nothing changed.
 */
export function mergeFindingOn(stored: ModelMetadata, found: Finding, owned: ReadonlyMap<string, unknown>, host: string | undefined, seenAt: string): ModelMetadata | undefined {
  if (host === undefined) return mergeFinding(stored, found, owned);
  const copy = copyOf(found.record, host, seenAt);
  const primaryElsewhere = stored.localPath !== undefined && stored.locations !== undefined && !pathsOn(stored, host).includes(stored.localPath);
  const here = primaryElsewhere ? { ...found, paths: found.paths.filter((p) => p !== 'localPath' && p !== 'files') } : found;
  const merged = mergeFinding(stored, here, owned) ?? stored;
  const next = copy ? withLocation(merged, copy) : merged;
  return next === stored ? undefined : next;
}

/**
 * What a scan on `host` writes for a discovered model whose copies at `gone` are no longer there:
 * the record without them, `missing` once no copy is left anywhere. Undefined when nothing changes.
 * @param foundHere the scan found the model at another path of this host
 */
export function afterCopiesGone(model: ModelMetadata, gone: readonly string[], host: string | undefined, foundHere: boolean): { model: ModelMetadata; missing: boolean } | undefined {
  if (host === undefined || model.locations === undefined) {
    if (foundHere) return undefined;
    return { model: { ...model, status: 'missing' }, missing: true };
  }
  const next = withoutLocations(model, host, gone);
  const missing = next.locations!.length === 0 && !foundHere;
  if (missing) next.status = 'missing';
  return { model: next, missing };
}
