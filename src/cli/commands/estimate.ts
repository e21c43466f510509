import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { config as processConfig } from '../../config.js';
import { describeModelAt } from '../../discovery/index.js';
import { isModelManagerError } from '../../errors.js';
import { estimateMemory, parseDtype, type EstimatedModel, type MemoryEstimateOptions, type MemoryEstimateReport } from '../../estimate/index.js';
import { createModelFromHuggingFace, snapshotModelId, resolveHfSnapshot } from '../../hub/index.js';
import { validateModel, type ModelMetadata, type Registry } from '../../registry/index.js';
import { formatBytes, formatCount } from '../../units.js';
import { withRegistry } from '../context.js';
import { countOption, parsedOption, tokensOption } from '../options.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

/** How long a registered model's memory analysis is kept (the seed's cache of computed values). */
const ANALYSIS_TTL_MS = 24 * 60 * 60 * 1000;

/** What to size, and what its files say beyond its record (a GGUF header's shape, the bytes its weights load as). */
interface Target {
  modelId: string;
  model: EstimatedModel;
  /** `registry`, `local` (a path), `cache` or `hub`. */
  from: string;
  sizing: MemoryEstimateOptions;
  warnings: string[];
  /** The registry entry, when the target is one: its analyses are cached. */
  registered?: ModelMetadata;
}

/**
 * What the files at `path` tell the estimate, read as a scan reads them: the estimate of a
 * registered model and of its folder are then the one the scan stored.
 */
async function sizingAt(path: string): Promise<Pick<Target, 'sizing' | 'warnings'> & { model: ModelMetadata }> {
  const { unit, description: d, warnings } = await describeModelAt(path);
  const requested = typeof d.overrides.modelId === 'string' ? d.overrides.modelId : undefined;
  const model = validateModel({ ...d.fields, ...d.overrides, modelId: requested ?? unit.idHint });
  return { model, sizing: d.estimate, warnings: warnings.map((w) => `${w.path}: ${w.reason}`) };
}

/** A registry entry, sized with what its files say when they are there. */
async function registeredTarget(model: ModelMetadata): Promise<Target> {
  const target: Target = { modelId: model.modelId, model, from: 'registry', sizing: {}, warnings: [], registered: model };
  if (!model.localPath) return target;
  try {
    const { sizing, warnings } = await sizingAt(model.localPath);
    // The record's parameter count stays: a person may have set it.
    target.sizing = model.parameterCount === undefined ? sizing : { ...sizing, parameterCount: undefined, parameterMethod: undefined };
    target.warnings.push(...warnings);
  } catch (error) {
    // Config-only folders have no weights to read; their record's config sizes them.
    if (!model.huggingfaceConfig) target.warnings.push(`cannot read the files at ${model.localPath} (${error instanceof Error ? error.message : String(error)}): sized from the record alone`);
  }
  return target;
}

/** A path (model folder or file), a cached or a hub model, read on the fly (nothing is registered). */
async function unregisteredTarget(name: string): Promise<Target> {
  const info = await stat(name).catch(() => undefined);
  if (info) {
    try {
      const { model, sizing, warnings } = await sizingAt(name);
      return { modelId: model.modelId, model, from: 'local', sizing, warnings };
    } catch (error) {
      // A Hugging Face folder with only its config (no weights) is still sized from the config.
      const configOnly = info.isDirectory() && (await stat(join(name, 'config.json')).catch(() => undefined)) !== undefined;
      if (!isModelManagerError(error, 'FILE_NOT_FOUND') || !configOnly) throw error;
    }
  }
  const snapshot = await resolveHfSnapshot(name, { config: processConfig() });
  const modelId = snapshotModelId(snapshot);
  const model = createModelFromHuggingFace(modelId, snapshot.config ?? {}, {
    weights: snapshot.weights, files: snapshot.files, pipelineTag: snapshot.pipelineTag, card: snapshot.card, warnings: snapshot.warnings,
  });
  return { modelId, model, from: snapshot.source, sizing: {}, warnings: snapshot.warnings };
}

/**
 * The memory analysis of a target; a registered model's is cached by its record's state and the
 * settings asked for, and reused until the model changes, the TTL ends or `mm clear-cache`.
 */
async function analyse(registry: Registry, target: Target, options: MemoryEstimateOptions): Promise<{ report: MemoryEstimateReport; cached: boolean }> {
  const compute = () => estimateMemory(target.model, { ...target.sizing, ...options });
  if (!target.registered) return { report: compute(), cached: false };
  const { context, batch, dtype, kvDtype } = options;
  const key = `memory-analysis ${JSON.stringify({ updatedAt: target.registered.updatedAt, context, batch, dtype, kvDtype })}`;
  const hit = await registry.getCached<MemoryEstimateReport>(target.modelId, key);
  if (hit) return { report: hit, cached: true };
  const report = compute();
  await registry.setCached(target.modelId, key, report, ANALYSIS_TTL_MS);
  return { report, cached: false };
}

export function register(program: Program): void {
  const estimate = program
    .command('estimate <model>')
    .description('estimate the memory to run a model (registry id, model folder or file, HF cache or hub id): weights + KV cache + overhead')
    .addOption(tokensOption('--context <n>', 'tokens per sequence, e.g. 8K = 8192 (default: the model context, at most 4096)'))
    .addOption(countOption('--batch <n>', 'sequences at once (default 1)', { min: 1, example: '4' }))
    .addOption(parsedOption('--dtype <dtype>', 'weights dtype: fp16, bf16, fp32, fp8, int8, int4, q8_0, q4_k_m, ... (default: the model\'s)', parseDtype))
    .addOption(parsedOption('--kv-dtype <dtype>', 'KV cache dtype (default fp16)', parseDtype));
  estimate.action(async (name) => {
    const o = estimate.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const stored = await registry.getModel(name);
      const target = stored ? await registeredTarget(stored) : await unregisteredTarget(name);
      const { report: e, cached } = await analyse(registry, target, { context: o.context, batch: o.batch, dtype: o.dtype, kvDtype: o.kvDtype });
      for (const warning of new Set([...target.warnings, ...e.warnings])) process.stderr.write(`warning: ${warning}\n`);
      if (o.json) return printJson({ modelId: target.modelId, from: target.from, cached, ...e });
      process.stdout.write(`${target.modelId} (${target.from}${cached ? ', cached' : ''}): ${formatCount(e.parameterCount)} params, ${e.attentionType ?? 'attention unknown'}, context ${e.context}${e.contextLength ? ` of ${e.contextLength}` : ''}, batch ${e.batch}\n`);
      printTable(['PART', 'MEMORY', 'DETAIL'], [
        ['weights', formatBytes(e.weightsBytes), `${e.dtype}${e.parameterMethod ? `, params from ${e.parameterMethod}` : ''}`],
        ['kv cache', formatBytes(e.kvCacheBytes), `${formatBytes(e.kvCacheBytesPerToken)}/token x ${e.context} x ${e.batch} (${e.kvDtype}${e.slidingWindow ? `, sliding window ${e.slidingWindow}` : ''})`],
        ['overhead', formatBytes(e.overheadBytes), 'runtime, buffers, activations'],
        ['total', formatBytes(e.totalBytes), `${e.totalBytes} bytes`],
      ]);
      process.stdout.write(`method: ${e.method}\n`);
    });
  });
}
