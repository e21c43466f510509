/**
 * Export and import of registry metadata as JSON or YAML files.
 *
 * Import also reads the snake_case JSON the Python model managers export (`model_id`, `data_type`, ...),
 * as one record, a list, `{models: [...]}`, or a map of id -> record.
 */
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import YAML from 'yaml';
import { writeFileAtomically } from '../atomic-file.js';
import { ModelManagerError, isModelManagerError } from '../errors.js';
import { collectHistory, parseHistory, restoreHistories } from './history.js';
import type { Registry } from './registry.js';
import type { ModelMetadata } from './schema.js';
import { validateModel, type FieldIssue } from './validate.js';

export type ExportFormat = 'json' | 'yaml';

/** Fields whose contents are free-form: their keys are kept as written. */
const OPAQUE_FIELDS = new Set([
  'huggingfaceConfig', 'hardwareRequirements', 'resourceRequirements', 'optimizationSettings', 'performanceMetrics', 'custom', 'aliases',
]);

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Converts snake_case keys to camelCase (not inside free-form fields), drops nulls, and dates without a zone become UTC. */
export function fromSnakeCase(value: unknown, opaque = false): unknown {
  if (Array.isArray(value)) return value.map((v) => fromSnakeCase(v, opaque));
  if (value === null || typeof value !== 'object') return value;
  // Keys come from a file: in a Map `__proto__` is a key, where assigning it would set the prototype.
  const out = new Map<string, unknown>();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (opaque) {
      out.set(key, v);
      continue;
    }
    const name = camel(key);
    if (v === null) continue;
    if ((name === 'createdAt' || name === 'updatedAt' || name === 'at') && typeof v === 'string' && /T\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v)) {
      out.set(name, `${v}Z`);
      continue;
    }
    out.set(name, fromSnakeCase(v, OPAQUE_FIELDS.has(name)));
  }
  return Object.fromEntries(out);
}

/** Pulls the list of records out of any of the accepted file shapes. */
function recordsOf(doc: unknown, path: string): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (doc && typeof doc === 'object') {
    const obj = doc as Record<string, unknown>;
    if ('modelId' in obj || 'model_id' in obj) return [obj];
    if (Array.isArray(obj.models)) return obj.models;
    if (obj.models && typeof obj.models === 'object') return Object.values(obj.models);
    const values = Object.values(obj);
    if (values.length > 0 && values.every((v) => v && typeof v === 'object' && ('model_id' in v || 'modelId' in v))) return values;
  }
  throw new ModelManagerError('INVALID_FILE', `${path} holds no model records: expected a list, {"models": [...]}, or a map of id -> record`, {
    details: { path },
  });
}

/** Parses an export file (JSON or YAML) into validated records, naming every bad one. */
export async function readMetadataFile(path: string): Promise<ModelMetadata[]> {
  return (await readExportFile(path)).models;
}

/** An export file's records, and its version history when it has one (`mm export --with-history`). */
async function readExportFile(path: string): Promise<{ models: ModelMetadata[]; history?: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelManagerError('FILE_NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(extname(path)) ? YAML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new ModelManagerError('INVALID_FILE', `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`, {
      details: { path },
      cause: error,
    });
  }
  const problems: { index: number; modelId?: string; issues: FieldIssue[] }[] = [];
  const models: ModelMetadata[] = [];
  recordsOf(doc, path).forEach((raw, index) => {
    const record = fromSnakeCase(raw);
    try {
      models.push(validateModel(record));
    } catch (error) {
      if (!isModelManagerError(error, 'INVALID_METADATA')) throw error;
      const modelId = (record as { modelId?: string } | null)?.modelId;
      problems.push({ index, modelId, issues: (error.details.issues as FieldIssue[]) ?? [] });
    }
  });
  if (problems.length > 0) {
    const first = problems[0]!;
    const where = first.modelId ? `"${first.modelId}"` : `#${first.index}`;
    throw new ModelManagerError('INVALID_METADATA', `${path}: ${problems.length} invalid record(s), nothing imported; first: ${where}: ${first.issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`, {
      details: { path, problems },
    });
  }
  const history = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as { history?: unknown }).history : undefined;
  return history === undefined ? { models } : { models, history };
}

export interface ImportResult {
  added: string[];
  updated: string[];
  unchanged: string[];
  /** Versions written from the file's history (files of `mm export --with-history`). */
  restoredVersions?: number;
}

export interface ExportOptions {
  /** Every version of every model, not only the current record (`mm restore` replays them). Defaults to false. */
  withHistory?: boolean;
}

/** Volatile fields that do not count as a change when comparing an import with what is stored. */
function comparable(model: ModelMetadata): string {
  const { createdAt: _c, updatedAt: _u, ...rest } = model;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/**
 * Imports a file: new models are added, changed ones get a new version, equal ones are left alone.
 * A file with history gives models the registry lacks all their versions, as they were.
 * Every record is validated before anything is written.
 */
export async function importMetadata(registry: Registry, path: string): Promise<ImportResult> {
  const file = await readExportFile(path);
  const histories = file.history === undefined ? undefined : parseHistory(file.history, path);
  const result: ImportResult = { added: [], updated: [], unchanged: [] };
  const restored = new Set<string>();
  if (histories) {
    const replayed = await restoreHistories(registry, histories);
    for (const id of replayed.restored) restored.add(id);
    result.added.push(...replayed.restored);
    result.restoredVersions = replayed.versions;
  }
  const fresh: ModelMetadata[] = [];
  for (const model of file.models) {
    if (restored.has(model.modelId)) continue;
    const current = await registry.getModel(model.modelId);
    if (!current) fresh.push(model);
    else if (comparable(current) === comparable({ ...model, aliases: current.aliases })) result.unchanged.push(model.modelId);
    else {
      await registry.updateModel(model.modelId, () => ({ ...model, aliases: current.aliases }), `import ${path}`);
      result.updated.push(model.modelId);
    }
  }
  if (fresh.length > 0) {
    await registry.addModels(fresh, `import ${path}`);
    result.added.push(...fresh.map((m) => m.modelId));
  }
  return result;
}

/** Writes every model (and with `withHistory` every version) to a JSON or YAML file, atomically. Returns how many models. */
export async function exportMetadata(registry: Registry, path: string, format?: ExportFormat, { withHistory = false }: ExportOptions = {}): Promise<number> {
  const fmt = format ?? (/\.ya?ml$/i.test(path) ? 'yaml' : 'json');
  const models = await registry.listModels();
  const doc = {
    format: 'model-manager/export', formatVersion: 1, exportedAt: new Date().toISOString(), count: models.length, models,
    ...(withHistory ? { history: await collectHistory(registry, models.map((m) => m.modelId)) } : {}),
  };
  const text = fmt === 'yaml' ? YAML.stringify(doc) : `${JSON.stringify(doc, null, 2)}\n`;
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomically(path, text);
  return models.length;
}
