/**
 * `importFromHuggingFace`: a folder, cached model or hub model -> a registry entry, with its
 * parameter count and memory estimate. The record is built and validated in full before the one
 * write, so a failed import never leaves a half-written entry.
 */
import { basename } from 'node:path';
import { config as processConfig, type Config } from '../config.js';
import type { MemoryEstimateOptions } from '../estimate/index.js';
import { updateFromFinding } from '../registry/field-origin.js';
import type { ModelMetadata, Registry } from '../registry/index.js';
import { MODEL_ID_PATTERN } from '../registry/index.js';
import { deletedModelError, isDeleted } from '../registry/soft-delete.js';
import { HUB_CHANGES } from './change-notes.js';
import { createModelFromHuggingFace } from './create-model.js';
import { existingPath, resolveHfSnapshot } from './resolve-source.js';
import type { HfSnapshot, HfSourceKind } from './snapshot.js';

export interface HfImportOptions {
  /** Re-import a model that is already registered (a new version). Defaults to false. */
  force?: boolean;
  /** Make a new version only when the config changed (what `mm sync` does). Defaults to false. */
  onlyIfChanged?: boolean;
  /** Registry id for a local folder. Defaults to `org/name` from an `org--name` folder, else `local/<folder>`. */
  modelId?: string;
  /** Branch, tag or commit on the hub. Defaults to `main`. */
  revision?: string;
  /** The fetch the hub client uses. Defaults to the global one. */
  fetch?: typeof fetch;
  /** Milliseconds each hub request may take. Defaults to 30000. */
  timeoutMs?: number;
  /** Settings (HF cache, endpoint, token, offline). Defaults to the process environment. */
  config?: Config;
  /** Options of the stored memory estimate. Defaults to the estimate's defaults. */
  estimate?: MemoryEstimateOptions;
}

/**
 * `added`: new entry; `updated`: new version; `unchanged`: config as stored (sync), or nothing to
 * change but values a person set; `exists`: registered already, nothing done.
 */
export type HfImportAction = 'added' | 'updated' | 'unchanged' | 'exists';

export interface HfImportOutcome {
  modelId: string;
  action: HfImportAction;
  /** The registry version the entry is at after the import. */
  version: number;
  /** Where the model was read; `registry` when an existing entry made reading it unnecessary. */
  source: HfSourceKind | 'registry';
  location: string;
  model: ModelMetadata;
  warnings: string[];
  /** One line for people. */
  message: string;
}

/**
 * Fields an import derives; everything else (aliases, metrics, measured, groups...) stays as the
 * user left it, and so do these where a person set them (registry/field-origin.ts).
 */
const IMPORTED_FIELDS = [
  'modelName', 'description', 'tags', 'modelType', 'architecture', 'modalities', 'capabilities', 'languages', 'inputs', 'outputs',
  'huggingfaceConfig', 'files', 'source', 'sourceUrl', 'supportedBackends', 'author', 'license', 'baseModel', 'format', 'quantization',
  'parameterCount', 'attentionType', 'contextLength', 'localPath', 'inferenceCodeLocation', 'memoryEstimate',
] as const satisfies readonly (keyof ModelMetadata)[];

/** The registry id of a model folder: `org/name` from an `org--name` folder, else `local/<folder>`. */
export function folderModelId(folder: string): string {
  const name = basename(folder).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+/, '') || 'model';
  const orgName = /^([A-Za-z0-9_.-]+?)--([A-Za-z0-9_.-]+)$/.exec(name);
  return orgName ? `${orgName[1]}/${orgName[2]}` : `local/${name}`;
}

/** The registry id of what was read: the one asked for, else the hub id, else one from the folder name. */
export function snapshotModelId(snapshot: HfSnapshot, requested?: string): string {
  if (requested) return requested;
  if (snapshot.repoId && MODEL_ID_PATTERN.test(snapshot.repoId)) return snapshot.repoId;
  return folderModelId(snapshot.location);
}

/** The id a scan gave this folder, if one did: importing it again must not make a second entry for the same files. */
async function scannedFolderId(registry: Registry, folder: string): Promise<string | undefined> {
  return (await registry.listModels({ source: 'discovered', localPath: folder, limit: 1 }))[0]?.modelId;
}

function alreadyRegistered(model: ModelMetadata, version: number, where: Pick<HfImportOutcome, 'source' | 'location'>, warnings: string[]): HfImportOutcome {
  return {
    modelId: model.modelId, action: 'exists', version, ...where, model, warnings,
    message: `${model.modelId} is already registered (version ${version}); nothing changed: use --force to re-import it`,
  };
}

/** JSON with sorted keys, so two configs compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/**
 * Imports a Hugging Face model into the registry from a folder, the HF cache or the hub.
 * An existing entry is left alone unless `force` (new version) or `onlyIfChanged` (new version when
 * the config changed); either way a value a person set stays as they set it.
 * @throws ModelManagerError MODEL_EXISTS for a deleted id (restore it, or remove it for good, first),
 *   FILE_NOT_FOUND, INVALID_CONFIG, OFFLINE, AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE, INVALID_METADATA
 */
export async function importFromHuggingFace(registry: Registry, idOrPath: string, options: HfImportOptions = {}): Promise<HfImportOutcome> {
  const { force = false, onlyIfChanged = false, revision, fetch, timeoutMs, config = processConfig() } = options;
  if (!force && !onlyIfChanged) {
    // A hub id already registered needs no network (and works offline).
    const knownId = options.modelId ?? ((await existingPath(idOrPath)) ? undefined : idOrPath);
    const stored = knownId === undefined ? undefined : await registry.store.get(knownId);
    if (stored && isDeleted(stored.model)) throw deletedModelError(stored);
    if (stored) return alreadyRegistered(stored.model, stored.version, { source: 'registry', location: stored.model.localPath ?? stored.model.sourceUrl ?? '' }, []);
  }
  const snapshot = await resolveHfSnapshot(idOrPath, { config, revision, fetch, timeoutMs });
  const scanned = options.modelId === undefined && snapshot.source !== 'hub' ? await scannedFolderId(registry, snapshot.location) : undefined;
  const modelId = scanned ?? snapshotModelId(snapshot, options.modelId);
  const warnings = [...snapshot.warnings];
  const where = { source: snapshot.source, location: snapshot.location };
  const existing = await registry.store.get(modelId);
  if (existing && isDeleted(existing.model)) throw deletedModelError(existing);
  if (existing && !force && !onlyIfChanged) return alreadyRegistered(existing.model, existing.version, where, warnings);
  const model = createModelFromHuggingFace(modelId, snapshot.config ?? {}, {
    pipelineTag: snapshot.pipelineTag,
    card: snapshot.card,
    hubTags: snapshot.hubTags,
    tokenizerConfig: snapshot.tokenizerConfig,
    weights: snapshot.weights,
    files: snapshot.files,
    localPath: snapshot.source === 'hub' ? undefined : snapshot.location,
    estimate: options.estimate,
    warnings,
  });
  if (!existing) {
    await registry.addModel(model, HUB_CHANGES.imported(snapshot.source));
    return { modelId, action: 'added', version: 1, ...where, model, warnings, message: `added ${modelId} from ${snapshot.source} (${snapshot.location})` };
  }
  if (!force && canonical(existing.model.huggingfaceConfig ?? {}) === canonical(model.huggingfaceConfig ?? {})) {
    return { modelId, action: 'unchanged', version: existing.version, ...where, model: existing.model, warnings, message: `${modelId}: config unchanged (version ${existing.version})` };
  }
  const note = force ? HUB_CHANGES.reimported(snapshot.source) : HUB_CHANGES.synced(snapshot.source);
  const updated = await updateFromFinding(registry, { record: model, paths: [...IMPORTED_FIELDS] }, note);
  if (!updated) {
    return { modelId, action: 'unchanged', version: existing.version, ...where, model: existing.model, warnings, message: `${modelId}: nothing to change, the files say what the registry holds or a person set (version ${existing.version})` };
  }
  const version = (await registry.store.get(modelId))?.version ?? existing.version + 1;
  return { modelId, action: 'updated', version, ...where, model: updated, warnings, message: `updated ${modelId} to version ${version} from ${snapshot.source}` };
}
