/**
 * `syncHuggingFace`: re-reads every model imported from Hugging Face and makes a new version of
 * those whose config changed. One model failing is reported, never the end of the sync.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { config as processConfig } from '../config.js';
import { toModelManagerError, type ErrorCode } from '../errors.js';
import type { ModelMetadata, Registry } from '../registry/index.js';
import { importFromHuggingFace, type HfImportOptions, type HfImportOutcome } from './import.js';

export type HfSyncResult = HfImportOutcome | { modelId: string; action: 'failed'; error: { code: ErrorCode; message: string } };

/** A model imported from a folder is re-read there; one from the cache or hub by its id. */
async function sourceOf(model: ModelMetadata, hubCache: string): Promise<string> {
  const path = model.localPath;
  if (path && !path.startsWith(hubCache) && (await stat(join(path, 'config.json')).catch(() => undefined))) return path;
  return model.modelId;
}

/** Re-imports every model whose `source` is `huggingface`; returns one result per model. */
export async function syncHuggingFace(registry: Registry, options: Omit<HfImportOptions, 'force' | 'onlyIfChanged' | 'modelId'> = {}): Promise<HfSyncResult[]> {
  const config = options.config ?? processConfig();
  const results: HfSyncResult[] = [];
  for (const model of await registry.listModels({ source: 'huggingface' })) {
    try {
      const from = await sourceOf(model, config.hf.hubCache);
      results.push(await importFromHuggingFace(registry, from, { ...options, config, onlyIfChanged: true, modelId: model.modelId }));
    } catch (error) {
      const err = toModelManagerError(error);
      results.push({ modelId: model.modelId, action: 'failed', error: { code: err.code, message: err.message } });
    }
  }
  return results;
}
