/**
 * What an import reads about a model, wherever it came from (a folder, the HF cache, the hub):
 * its configs, model card and the parameter count from the safetensors headers.
 */
import type { HfConfig } from '../estimate/index.js';
import { ModelManagerError } from '../errors.js';
import type { ModelFile } from '../registry/index.js';
import type { ModelCard } from './model-card.js';

export type HfSourceKind = 'local' | 'cache' | 'hub';

/** Config files larger than this are refused unread: real ones are a few kilobytes. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;
/** README.md is read up to this many bytes (front matter comes first). */
export const MAX_README_BYTES = 1024 * 1024;

export interface WeightsSummary {
  parameterCount: number;
  parametersByDtype: Record<string, number>;
  /** Files whose headers were read. */
  files: string[];
}

export interface HfSnapshot {
  source: HfSourceKind;
  /** The hub id, when known (cache and hub; a folder's `_name_or_path` when it is one). */
  repoId?: string;
  /** The folder read, or the hub URL of the repo. */
  location: string;
  /** Commit or branch the files come from. */
  revision?: string;
  config?: HfConfig;
  tokenizerConfig?: HfConfig;
  generationConfig?: HfConfig;
  card?: ModelCard;
  /** The hub's `pipeline_tag` (or the card's). */
  pipelineTag?: string;
  /** Tags the hub lists for the repo. */
  hubTags: string[];
  weights?: WeightsSummary;
  files: ModelFile[];
  warnings: string[];
}

/**
 * Parses a JSON config, refusing what is not a JSON object.
 * @throws ModelManagerError INVALID_CONFIG naming the file and what to do
 */
export function parseConfigJson(text: string, where: string): HfConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelManagerError('INVALID_CONFIG', `${where} is not valid JSON (${(error as Error).message}); fix or re-download it`, {
      details: { file: where },
      cause: error,
    });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelManagerError('INVALID_CONFIG', `${where} must hold a JSON object, not ${Array.isArray(value) ? 'an array' : String(value)}`, {
      details: { file: where },
    });
  }
  return value as HfConfig;
}

/** Parses an optional config; a bad one becomes a warning. */
export function parseOptionalConfig(text: string | undefined, where: string, warnings: string[]): HfConfig | undefined {
  if (text === undefined) return undefined;
  try {
    return parseConfigJson(text, where);
  } catch (error) {
    warnings.push(`${(error as Error).message}; ignored`);
    return undefined;
  }
}
