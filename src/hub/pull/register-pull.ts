/**
 * A pull recorded in the registry: a new entry is built from the pulled files (config, card, the
 * files with sizes and sha256); an existing one (say, imported from the hub without files) gets
 * only what describes the files (`localPath`, `files`, `revision`, `status`) and keeps everything
 * else as it was. Both versions carry the pull's note: a machine wrote them (registry/field-origin.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { config as processConfig } from '../../config.js';
import { isModelManagerError } from '../../errors.js';
import type { ModelFile, ModelMetadata, Registry } from '../../registry/index.js';
import { HUB_CHANGES } from '../change-notes.js';
import { createModelFromHuggingFace } from '../create-model.js';
import { readModelFolder } from '../local-folder.js';
import { parseModelCard } from '../model-card.js';
import { MAX_README_BYTES, type HfSnapshot } from '../snapshot.js';
import { parseHubName } from './hub-name.js';
import { pullModel, type PullOptions, type PullResult } from './pull-model.js';

export interface RegisteredPull {
  /** The registry id: the name pulled (`org/name`, or `org/name:Q8_0` for a variant asked for). */
  modelId: string;
  /** `added`: new entry; `updated`: files recorded on an existing entry; `unchanged`: it had them; `none`: a dry run. */
  action: 'added' | 'updated' | 'unchanged' | 'none';
  model?: ModelMetadata;
  pull: PullResult;
  warnings: string[];
}

export interface PullToRegistryOptions extends PullOptions {
  /** The registry id. Defaults to the entry already named `name`, else `org/name[:variant]`. */
  modelId?: string;
  /**
   * Sees each stored record the pull may write to (as it is now), before anything is downloaded
   * and again before the write, and refuses by throwing; nothing is written then. The server
   * refuses records the caller may not see this way.
   */
  check?: (current: ModelMetadata) => void;
}

/** The registry id of a pulled variant: the name as asked, with the variant spelled as the files spell it. */
function pulledId(pull: PullResult, asked: string | undefined): string {
  return asked === undefined || pull.variant === undefined ? pull.repoId : `${pull.repoId}:${pull.variant}`;
}

/** What the files of a snapshot say about the model; a GGUF repo often has no config.json, only its card. */
async function readPulled(pull: PullResult): Promise<HfSnapshot> {
  try {
    return await readModelFolder(pull.snapshot, { source: 'cache' });
  } catch (error) {
    if (!isModelManagerError(error, 'FILE_NOT_FOUND')) throw error;
    const readme = await readFile(join(pull.snapshot, 'README.md'), 'utf8').catch(() => undefined);
    const card = readme === undefined ? undefined : parseModelCard(readme.slice(0, MAX_README_BYTES));
    return { source: 'cache', location: pull.snapshot, hubTags: [], files: [], warnings: card?.warning ? [card.warning] : [], ...(card ? { card, pipelineTag: card.pipelineTag } : {}) };
  }
}

function filesOf(pull: PullResult): ModelFile[] {
  return pull.files.map((f) => ({ path: f.path, size: f.size, ...(f.sha256 ? { sha256: f.sha256 } : {}) }));
}

/**
 * Pulls `name` and records it in the registry.
 * @throws ModelManagerError as `pullModel`, and INVALID_METADATA
 */
export async function pullToRegistry(registry: Registry, name: string, options: PullToRegistryOptions = {}): Promise<RegisteredPull> {
  const { check } = options;
  if (check) {
    const hub = parseHubName(name);
    const candidates = new Set([options.modelId ?? name, ...(hub ? [hub.repoId, ...(hub.variant ? [`${hub.repoId}:${hub.variant}`] : [])] : [])]);
    for (const id of candidates) {
      const found = await registry.lookupModel(id);
      if (found) check(found.current);
    }
  }
  const existingId = options.modelId ?? ((await registry.getModel(name)) ? name : undefined);
  const pull = await pullModel(name, options);
  if (pull.dryRun) return { modelId: existingId ?? pulledId(pull, parseHubName(name)?.variant), action: 'none', pull, warnings: [] };
  const modelId = existingId ?? pulledId(pull, parseHubName(name)?.variant);
  const files = filesOf(pull);
  const existing = await registry.getModel(modelId);
  if (existing) {
    if (existing.localPath === pull.modelPath && existing.revision === pull.commit && JSON.stringify(existing.files) === JSON.stringify(files)) {
      return { modelId, action: 'unchanged', model: existing, pull, warnings: [] };
    }
    const model = await registry.updateModel(modelId, (current) => {
      check?.(current);
      return { ...current, localPath: pull.modelPath, files, revision: pull.commit, status: 'available' };
    }, HUB_CHANGES.pulled(pull.repoId, pull.commit));
    return { modelId, action: 'updated', model, pull, warnings: [] };
  }
  const read = await readPulled(pull);
  const warnings = [...read.warnings];
  const model = createModelFromHuggingFace(modelId, read.config ?? {}, {
    pipelineTag: pull.pipelineTag ?? read.pipelineTag,
    ...(read.card ? { card: read.card } : {}),
    hubTags: pull.tags,
    ...(read.tokenizerConfig ? { tokenizerConfig: read.tokenizerConfig } : {}),
    files,
    localPath: pull.modelPath,
    sourceUrl: `${(options.config ?? processConfig()).hf.endpoint}/${pull.repoId}`,
    warnings,
  });
  model.revision = pull.commit;
  if (pull.format) model.format = pull.format;
  if (pull.format === 'gguf' && pull.variant && !model.quantization) model.quantization = pull.variant;
  try {
    await registry.addModel(model, HUB_CHANGES.pulled(pull.repoId, pull.commit));
  } catch (error) {
    // Two first uses pulled it at once (this process or another): the other one registered it.
    // A deleted model holds its id until it is restored or removed for good: that error says so.
    if (!isModelManagerError(error, 'MODEL_EXISTS') || error.details.deleted === true) throw error;
    return { modelId, action: 'unchanged', model: await registry.getModel(modelId), pull, warnings };
  }
  return { modelId, action: 'added', model: (await registry.getModel(modelId)) ?? model, pull, warnings };
}
