import type { z } from 'zod';
import { ModelManagerError } from '../errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../json-depth.js';
import { modelMetadataSchema, type ModelMetadata } from './schema.js';

/** One problem found in a record: the dotted path of the field and why it is refused. */
export interface FieldIssue {
  field: string;
  reason: string;
}

function describe(issues: z.core.$ZodIssue[]): FieldIssue[] {
  return issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(record)';
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.join(', '), reason: 'unknown field (check the spelling; custom fields go under "custom")' };
    }
    return { field, reason: issue.message };
  });
}

/**
 * Validates and normalises a model record, filling defaults.
 * @throws ModelManagerError INVALID_METADATA naming every bad field and the reason.
 */
export function validateModel(input: unknown): ModelMetadata {
  let candidate = input;
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    const obj = input as Record<string, unknown>;
    if (obj.modelName === undefined && typeof obj.modelId === 'string') {
      candidate = { ...obj, modelName: obj.modelId.split('/').pop() };
    }
  } else {
    throw new ModelManagerError('INVALID_METADATA', 'a model record must be a JSON object', {
      details: { issues: [{ field: '(record)', reason: 'not an object' }] },
    });
  }
  const tooDeep = Object.entries(candidate as Record<string, unknown>).filter(([, value]) => jsonDepthExceeds(value, MAX_JSON_DEPTH - 1));
  if (tooDeep.length > 0) {
    const issues = tooDeep.map(([field]) => ({ field, reason: `nested more than ${MAX_JSON_DEPTH} levels deep` }));
    throw new ModelManagerError('INVALID_METADATA', `invalid model: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`, {
      details: { issues, maxDepth: MAX_JSON_DEPTH },
    });
  }
  const parsed = modelMetadataSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const issues = describe(parsed.error.issues);
  const id = typeof (input as { modelId?: unknown }).modelId === 'string' ? ` "${(input as { modelId: string }).modelId}"` : '';
  const summary = issues.map((i) => `${i.field}: ${i.reason}`).join('; ');
  throw new ModelManagerError('INVALID_METADATA', `invalid model${id}: ${summary}`, {
    details: { issues },
    cause: parsed.error,
  });
}
