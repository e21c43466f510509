/**
 * Version history in export files: `mm export --with-history` writes every version of every
 * model, and `mm restore` replays them into a registry that lacks those models, so a registry
 * moves from one store to another (SQLite to PostgreSQL, say) with its versions, their times and
 * what made them.
 *
 * The replay goes through the store as the first writes did: version 1 by `insert` (in batches),
 * each later one by `update` naming the version before it, so its number, time and change come
 * out as they were. A store dates a version by its record's `updatedAt`, which a measurement
 * kept in the current version (`replaceCurrent`) moves on later; such a version is written with
 * the time it was made and then given its record as it is. A restore that stopped part way goes
 * on where it stopped when run again.
 */
import { ModelManagerError, isModelManagerError } from '../errors.js';
import type { Registry } from './registry.js';
import type { ModelMetadata } from './schema.js';
import { validateModel } from './validate.js';

/** One version of a model in an export file. */
export interface ExportedVersion {
  version: number;
  createdAt: string;
  change: string;
  model: ModelMetadata;
}

const READS_IN_FLIGHT = 8;
const INSERT_BATCH = 500;

/** Every version of the given models, by id; a few reads in flight at once. */
export async function collectHistory(registry: Registry, modelIds: readonly string[]): Promise<Record<string, ExportedVersion[]>> {
  const history: Record<string, ExportedVersion[]> = {};
  let next = 0;
  const worker = async () => {
    while (next < modelIds.length) {
      const modelId = modelIds[next++]!;
      const versions: ExportedVersion[] = [];
      for (const info of await registry.store.listVersions(modelId)) {
        const model = await registry.store.getVersion(modelId, info.version);
        if (model) versions.push({ version: info.version, createdAt: info.createdAt, change: info.change, model });
      }
      history[modelId] = versions;
    }
  };
  await Promise.all(Array.from({ length: READS_IN_FLIGHT }, worker));
  return Object.fromEntries(modelIds.flatMap((id) => (history[id] ? [[id, history[id]]] : [])));
}

/**
 * Reads the `history` of an export file: validated records, versions numbered 1, 2, ... in order.
 * @throws INVALID_FILE for a malformed history, INVALID_METADATA for an invalid record (nothing is written)
 */
export function parseHistory(raw: unknown, path: string): Map<string, ExportedVersion[]> {
  const bad = (reason: string) => new ModelManagerError('INVALID_FILE', `${path}: history ${reason}; nothing imported`, { details: { path } });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad('must map each model id to its versions');
  const histories = new Map<string, ExportedVersion[]>();
  for (const [modelId, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(list) || list.length === 0) throw bad(`of "${modelId}" must be a non-empty list of versions`);
    histories.set(modelId, list.map((entry: unknown, i) => {
      const v = (entry ?? {}) as Partial<Record<keyof ExportedVersion, unknown>>;
      if (v.version !== i + 1 || typeof v.createdAt !== 'string' || typeof v.change !== 'string') {
        throw bad(`of "${modelId}": entry ${i} must be {version: ${i + 1}, createdAt, change, model}`);
      }
      const model = validateModel(v.model);
      if (model.modelId !== modelId) throw bad(`of "${modelId}": version ${i + 1} is a record of "${model.modelId}"`);
      return { version: i + 1, createdAt: v.createdAt, change: v.change, model };
    }));
  }
  return histories;
}

/**
 * Replays the histories of models the registry does not hold, or holds with the first versions of
 * that history only (a restore that stopped): returns the ids restored and how many versions were written.
 * Models the registry holds otherwise are left to the caller.
 */
export async function restoreHistories(registry: Registry, histories: Map<string, ExportedVersion[]>): Promise<{ restored: string[]; versions: number }> {
  const fresh: ExportedVersion[][] = [];
  const resumed: [ExportedVersion[], number][] = [];
  for (const versions of histories.values()) {
    const stored = await registry.store.listVersions(versions[0]!.model.modelId);
    if (stored.length === 0) fresh.push(versions);
    else if (stored.length < versions.length && stored.every((s, i) => s.version === versions[i]!.version && s.change === versions[i]!.change)) {
      resumed.push([versions, stored.length]);
    }
  }
  let written = 0;
  // First versions in batches, one per change label (insert names one change for all it adds).
  const byChange = new Map<string, ExportedVersion[]>();
  for (const versions of fresh) byChange.set(versions[0]!.change, [...(byChange.get(versions[0]!.change) ?? []), versions[0]!]);
  for (const [change, firsts] of byChange) {
    for (let i = 0; i < firsts.length; i += INSERT_BATCH) {
      const batch = firsts.slice(i, i + INSERT_BATCH);
      await registry.store.insert(batch.map(asWritten), change);
      for (const v of batch) await keepRecord(registry, v);
      written += batch.length;
    }
  }
  for (const [versions, from] of [...fresh.map((v) => [v, 1] as [ExportedVersion[], number]), ...resumed]) {
    for (const v of versions.slice(from)) {
      try {
        await registry.store.update(asWritten(v), v.change, v.version - 1);
        await keepRecord(registry, v);
      } catch (error) {
        if (!isModelManagerError(error, 'VERSION_CONFLICT')) throw error;
        throw new ModelManagerError('VERSION_CONFLICT', `model "${v.model.modelId}" changed while its history was restored (at version ${v.version}); run the restore again`, {
          details: { modelId: v.model.modelId, version: v.version }, cause: error,
        });
      }
      written += 1;
    }
  }
  return { restored: [...fresh, ...resumed.map(([v]) => v)].map((v) => v[0]!.model.modelId), versions: written };
}

/** The record as it was when its version was made: stores date a version by the record's `updatedAt`. */
function asWritten(v: ExportedVersion): ModelMetadata {
  return v.model.updatedAt === v.createdAt ? v.model : { ...v.model, updatedAt: v.createdAt };
}

/** Gives a version its record as exported, when a measurement had moved its `updatedAt` on (no new version). */
async function keepRecord(registry: Registry, v: ExportedVersion): Promise<void> {
  if (v.model.updatedAt !== v.createdAt) await registry.store.replaceCurrent(v.model, v.version);
}
