/**
 * A model folder's `metadata.json` (the seed's custom fields) mapped onto registry fields. Loaded
 * by the header readers only when a folder has one: it needs the registry's schema (zod), which
 * a reader thread otherwise never loads.
 */
// Not '../registry/index.js': this runs in header reader threads, which need neither the Registry nor its stores' native bindings.
import { modelMetadataSchema } from '../registry/schema.js';
import { fromSnakeCase } from '../registry/transfer.js';

/** Seed field names that differ from the registry's. */
const RENAMES = new Map([['languageSupport', 'languages'], ['name', 'displayName'], ['type', 'modelType'], ['modelPath', 'localPath']]);
const KNOWN_FIELDS = new Set(Object.keys(modelMetadataSchema.shape));
/** Fields discovery owns; metadata.json cannot set them. */
const OWNED = new Set(['localPath', 'files', 'source', 'status', 'createdAt', 'updatedAt', 'aliases', 'measured']);

/**
 * Maps a model folder's `metadata.json` onto registry fields: snake_case becomes camelCase,
 * non-numeric performance figures ("fast") and unknown fields are kept under `custom`. Keys are
 * the file's: `constructor` or `toString` is a custom field like any other, never looked up on
 * an object's prototype.
 */
export function metadataOverrides(doc: Record<string, unknown>): Record<string, unknown> {
  const camel = fromSnakeCase(doc) as Record<string, unknown>;
  const out = new Map<string, unknown>();
  const custom = new Map<string, unknown>();
  for (const [rawKey, value] of Object.entries(camel)) {
    const key = RENAMES.get(rawKey) ?? rawKey;
    if (OWNED.has(key)) continue;
    if (key === 'performanceMetrics' && value && typeof value === 'object') {
      const numbers = Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
      out.set('performanceMetrics', Object.fromEntries(numbers));
      if (numbers.length !== Object.keys(value).length) custom.set('performanceMetrics', value);
    } else if (KNOWN_FIELDS.has(key)) out.set(key, value);
    else custom.set(key, value);
  }
  if (custom.size > 0) {
    const given = out.get('custom');
    out.set('custom', Object.fromEntries([...(given && typeof given === 'object' ? Object.entries(given) : []), ...custom]));
  }
  return Object.fromEntries(out);
}
