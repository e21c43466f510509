import { ModelManagerError } from '../errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../json-depth.js';

/**
 * JSON Merge Patch (RFC 7386): objects merge, `null` removes a field, anything else replaces.
 * @throws INVALID_METADATA for a patch nested more than MAX_JSON_DEPTH levels (merging recurses).
 */
export function mergePatch<T>(target: T, patch: unknown): T {
  if (jsonDepthExceeds(patch)) {
    throw new ModelManagerError('INVALID_METADATA', `the patch is nested more than ${MAX_JSON_DEPTH} levels deep`, { details: { maxDepth: MAX_JSON_DEPTH } });
  }
  return merge(target, patch);
}

function merge<T>(target: T, patch: unknown): T {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as T;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = merge(base[key], value);
  }
  return base as T;
}
