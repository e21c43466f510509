/**
 * Reading `model_categorization.json` (the seed's format): checked with zod on the main thread,
 * then handed to the categoriser (`rules.ts`) and the header reader threads as plain data.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ModelManagerError } from '../errors.js';
import { DEFAULT_CATEGORIZATION_RULES, type CategorizationRules } from './rules.js';

const ruleSchema = z.object({
  keywords: z.array(z.string()).default([]),
  file_patterns: z.array(z.string()).default([]),
  modalities: z.array(z.string()).default([]),
});
const sectionSchema = z.record(z.string(), ruleSchema);
const categorizationRulesSchema = z.object({
  primary_category: sectionSchema.optional(),
  secondary_category: sectionSchema.optional(),
  specialization: sectionSchema.optional(),
});

/**
 * Reads `model_categorization.json` (`{categorization_rules: {...}}` or the rules themselves);
 * each section it defines replaces the shipped one, the others stay.
 * @throws INVALID_CONFIG
 */
export async function loadCategorizationRules(path: string | undefined, { optional = false } = {}): Promise<CategorizationRules> {
  if (!path) return DEFAULT_CATEGORIZATION_RULES;
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_CATEGORIZATION_RULES;
    throw new ModelManagerError('INVALID_CONFIG', `cannot read categorization rules ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
  }
  if (doc && typeof doc === 'object' && 'categorization_rules' in doc) doc = (doc as { categorization_rules: unknown }).categorization_rules;
  const parsed = categorizationRulesSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ field: i.path.join('.'), reason: i.message }));
    throw new ModelManagerError('INVALID_CONFIG', `${path}: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`, { details: { path, issues } });
  }
  return {
    primary_category: parsed.data.primary_category ?? DEFAULT_CATEGORIZATION_RULES.primary_category,
    secondary_category: parsed.data.secondary_category ?? DEFAULT_CATEGORIZATION_RULES.secondary_category,
    specialization: parsed.data.specialization ?? DEFAULT_CATEGORIZATION_RULES.specialization,
  };
}
