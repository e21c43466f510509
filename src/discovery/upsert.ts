/**
 * How a model found on disk becomes a registry record: which id it gets, and what a finding
 * holds. How a finding merges into what the registry holds (only fields the files gave, and of
 * those only values a machine set) is registry/field-origin.ts's, shared with import and sync.
 */
import { createHash } from 'node:crypto';
import { isModelManagerError } from '../errors.js';
import { MODEL_ID_PATTERN, onlyElsewhere, pathsOn, validateModel, type ModelFile, type ModelMetadata, type ModelMetadataInput } from '../registry/index.js';
import { weightHashesOf } from '../registry/locations.js';
import { estimateOf, type Description } from './describe.js';
import type { Finding } from '../registry/field-origin.js';

/**
 * Registry models, looked up by id, by the paths of their copies on the scanning host, and (in a
 * registry several hosts share) by the sha256s of the weight files of their copies on other hosts.
 */
export class KnownModels {
  readonly byId = new Map<string, ModelMetadata>();
  readonly byPath = new Map<string, ModelMetadata>();
  /** Weight hashes (see weightHashesOf) -> the id of the one model whose copies, all elsewhere, hold them; null when several do. */
  readonly #elsewhereByWeights = new Map<string, string | null>();
  /** The scanning host in a registry several hosts share; undefined for a registry of one machine. */
  readonly host: string | undefined;
  constructor(models: Iterable<ModelMetadata>, host?: string) {
    this.host = host;
    for (const m of models) this.#add(m);
  }
  #add(m: ModelMetadata): void {
    this.byId.set(m.modelId, m);
    for (const path of pathsOn(m, this.host)) this.byPath.set(path, m);
    if (!onlyElsewhere(m, this.host)) return;
    for (const key of new Set(m.locations!.map((l) => weightHashesOf(l.files)))) {
      if (key === undefined) continue;
      const holder = this.#elsewhereByWeights.get(key);
      this.#elsewhereByWeights.set(key, holder === undefined || holder === m.modelId ? m.modelId : null);
    }
  }

  /**
   * The model a copy found on this host is, by its files: the one model whose copies are all on
   * other hosts and whose weight files have the same sha256s as `files` (every weight file hashed
   * on both sides, the same set). Undefined without a host, when none or several match, or when
   * this scan has given the model a copy here already (`taken`): two models of one host never
   * become one.
   */
  sameWeightsElsewhere(files: readonly ModelFile[], taken: ReadonlySet<string>): string | undefined {
    if (this.host === undefined) return undefined;
    const key = weightHashesOf(files);
    const id = key === undefined ? undefined : this.#elsewhereByWeights.get(key);
    return id === null || id === undefined || taken.has(id) ? undefined : id;
  }
}

/**
 * The id of a model at `localPath`: the one it has in the registry, else metadata.json's, else
 * the hint, with a short hash of the path added when another model of this host holds that id
 * (a model whose copies are all on other hosts is this one, found here too).
 */
export function chooseId(localPath: string, hint: string, known: KnownModels, taken: Set<string>, requested?: string): string {
  const existing = known.byPath.get(localPath);
  if (existing) return existing.modelId;
  const want = requested ?? hint;
  const holder = known.byId.get(want);
  if (!taken.has(want) && (!holder || holder.localPath === localPath || onlyElsewhere(holder, known.host))) return want;
  return `${want}-${createHash('sha1').update(localPath).digest('hex').slice(0, 6)}`;
}

/**
 * The id of the model at `localPath` (see chooseId), and whether it is a copy on this host of a
 * model registered from other hosts under another id, known by the sha256s of its weight files
 * (`joined`). Only a copy that would otherwise be a new model joins one, and never one whose id
 * metadata.json or the caller set.
 */
export function placeCopy(localPath: string, hint: string, known: KnownModels, taken: Set<string>, files: readonly ModelFile[] | undefined, requested?: string): { modelId: string; joined: boolean } {
  const modelId = chooseId(localPath, hint, known, taken, requested);
  const joined = requested === undefined && !known.byId.has(modelId) ? known.sameWeightsElsewhere(files ?? [], taken) : undefined;
  return joined === undefined ? { modelId, joined: false } : { modelId: joined, joined: true };
}

/** A finding that records only where the copy is: a copy that joined a model by its files adds no field to it (its names would differ). */
export function copyOnly(finding: Finding): Finding {
  return { ...finding, paths: [] };
}

export type Warn = (path: string, reason: string) => void;

/** The id metadata.json asks for, when it is a valid model id; another is a warning, and the model keeps the id it would get. */
export function requestedId(d: Description, metadataPath: string, warn: Warn): string | undefined {
  const id = d.overrides.modelId;
  if (id === undefined) return undefined;
  if (typeof id === 'string' && id.length <= 256 && MODEL_ID_PATTERN.test(id)) return id;
  warn(metadataPath, `model_id ${JSON.stringify(id).slice(0, 100)} is not a model id (org/name: letters, digits, ._- and /); ignored`);
  return undefined;
}

/** Fields a finding never sets: identity and bookkeeping the registry keeps. */
const NOT_FOUND = new Set(['modelId', 'source', 'createdAt', 'updatedAt', 'aliases', 'custom']);

/** The finding of `keys` (fields the files gave) in `record`. */
function finding(record: ModelMetadata, keys: Iterable<string>): Finding {
  const paths = [...new Set(keys)].filter((k) => !NOT_FOUND.has(k) && (record as Record<string, unknown>)[k] !== undefined);
  for (const key of Object.keys(record.custom ?? {})) paths.push(`custom.${key}`);
  return { record, paths };
}

/**
 * The record a description makes, with metadata.json applied; overrides that would make it
 * invalid are dropped with a warning naming the fields.
 */
export function findingOf(modelId: string, d: Description, warn: Warn, metadataPath: string): Finding {
  const base = { ...d.fields, modelId } as ModelMetadataInput;
  if (Object.keys(d.overrides).length === 0) return finding(validateModel(base), Object.keys(d.fields));
  const custom = { ...(d.fields.custom ?? {}), ...((d.overrides.custom as Record<string, unknown> | undefined) ?? {}) };
  try {
    const record = withEstimate(validateModel({ ...base, ...d.overrides, custom, modelId }), d);
    return finding(record, [...Object.keys(d.fields), ...Object.keys(d.overrides), 'memoryEstimate']);
  } catch (error) {
    if (!isModelManagerError(error, 'INVALID_METADATA')) throw error;
    const issues = (error.details.issues as { field: string; reason: string }[] | undefined) ?? [];
    warn(metadataPath, `ignored (would make the record invalid): ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`);
    return finding(validateModel(base), Object.keys(d.fields));
  }
}

/** The record re-sized after metadata.json changed it (a parameter count or quantization it sets counts). */
export function withEstimate(model: ModelMetadata, d: Description): ModelMetadata {
  if (d.overrides.memoryEstimate !== undefined) return model;
  const { memoryEstimate: _derived, ...rest } = model;
  const { parameterCount, parameterMethod: _method, ...sizes } = d.estimate;
  const sized = estimateOf(rest, model.parameterCount === parameterCount ? d.estimate : sizes);
  return sized ? { ...rest, memoryEstimate: sized } : rest;
}
