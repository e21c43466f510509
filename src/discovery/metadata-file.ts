/**
 * A model folder's `metadata.json` (the seed's custom fields) mapped onto registry fields. Loaded
 * by the header readers only when a folder has one: it needs the registry's schema (zod), which
 * a reader thread otherwise never loads.
 */
// Not '../registry/index.js': this runs in header reader threads, which need neither the Registry nor its stores' native bindings.
import { modelMetadataSchema } from '../registry/schema.js';
import { fromSnakeCase } from '../registry/transfer.js';

/** Seed field names that differ from the registry's. */
const RENAMES: Record<string, string> = { languageSupport: 'languages', name: 'displayName', type: 'modelType', modelPath: 'localPath' };
const KNOWN_FIELDS = new Set(Object.keys(modelMetadataSchema.shape));
/** Fields discovery owns; metadata.json cannot set them. */
const OWNED = new Set(['localPath', 'files', 'source', 'status', 'createdAt', 'updatedAt', 'aliases', 'measured']);

/**
 * Maps a model folder's `metadata.json` onto registry fields: snake_case becomes camelCase,
 * non-numeric performance figures ("fast") and unknown fields are kept under `custom`.
 */
export function metadataOverrides(doc: Record<string, unknown>): Record<string, unknown> {
  const camel = fromSnakeCase(doc) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(camel)) {
    const key = RENAMES[rawKey] ?? rawKey;
    if (OWNED.has(key)) continue;
    if (key === 'performanceMetrics' && value && typeof value === 'object') {
      const numbers = Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
      out.performanceMetrics = Object.fromEntries(numbers);
      if (numbers.length !== Object.keys(value).length) custom.performanceMetrics = value;
    } else if (KNOWN_FIELDS.has(key)) out[key] = value;
    else custom[key] = value;
  }
  if (Object.keys(custom).length > 0) out.custom = { ...((out.custom as Record<string, unknown> | undefined) ?? {}), ...custom };
  return out;
}
