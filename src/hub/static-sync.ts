/**
 * `syncStaticModels` (`mm sync --static`): registers the static model definitions that ship with
 * Model Manager (the seed's "sync static models to DB"), with `source: static`, sized from their
 * configs. A definition that changed makes a new version of the fields it decides, except those a
 * person set (registry/field-origin.ts); what a person added to an entry (tags, metrics, aliases,
 * access) stays too. An id registered from elsewhere, or deleted, is left alone.
 */
import { isDeepStrictEqual } from 'node:util';
import { updateFromFinding } from '../registry/field-origin.js';
import type { ModelMetadata, Registry } from '../registry/index.js';
import { HUB_CHANGES } from './change-notes.js';
import { createModelFromHuggingFace } from './create-model.js';
import { STATIC_MODELS, type StaticModelDefinition } from './static-models.js';

export interface StaticSyncResult {
  modelId: string;
  /**
   * `unchanged`: the definition is as stored, or all it changes are values a person set;
   * `skipped`: the id is registered from another source, or was deleted.
   */
  action: 'added' | 'updated' | 'unchanged' | 'skipped';
  /** Why it was skipped. */
  reason?: string;
}

/** Fields a definition's config decides, where no person set them; everything else stays as the registry has it. */
const DEFINED_FIELDS = [
  'modelType', 'architecture', 'modalities', 'capabilities', 'inputs', 'outputs', 'huggingfaceConfig', 'quantization',
  'parameterCount', 'attentionType', 'contextLength', 'memoryEstimate', 'sourceUrl', 'source',
] as const satisfies readonly (keyof ModelMetadata)[];

/** The registry record of a definition. */
function recordOf(definition: StaticModelDefinition): ModelMetadata {
  return { ...createModelFromHuggingFace(definition.modelId, definition.config), source: 'static' };
}

/**
 * Brings the registry in step with the static definitions; one result per definition.
 * `definitions` defaults to the ones that ship with Model Manager.
 */
export async function syncStaticModels(registry: Registry, definitions: readonly StaticModelDefinition[] = STATIC_MODELS): Promise<StaticSyncResult[]> {
  const results: StaticSyncResult[] = [];
  const deleted = new Set((await registry.listDeleted()).map((m) => m.modelId));
  for (const definition of definitions) {
    const { modelId } = definition;
    const stored = await registry.getModel(modelId);
    if (deleted.has(modelId)) {
      results.push({ modelId, action: 'skipped', reason: 'deleted (`mm rollback` restores it)' });
    } else if (!stored) {
      await registry.addModel(recordOf(definition), HUB_CHANGES.staticAdded);
      results.push({ modelId, action: 'added' });
    } else if (stored.source !== 'static') {
      results.push({ modelId, action: 'skipped', reason: `registered from ${stored.source}; the static definition does not replace it` });
    } else if (isDeepStrictEqual(stored.huggingfaceConfig, definition.config)) {
      results.push({ modelId, action: 'unchanged' });
    } else {
      const updated = await updateFromFinding(registry, { record: recordOf(definition), paths: [...DEFINED_FIELDS] }, HUB_CHANGES.staticChanged);
      results.push({ modelId, action: updated ? 'updated' : 'unchanged' });
    }
  }
  return results;
}
