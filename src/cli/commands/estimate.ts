import { config as processConfig } from '../../config.js';
import { estimateMemory, parseDtype } from '../../estimate/index.js';
import { createModelFromHuggingFace, snapshotModelId, resolveHfSnapshot } from '../../hub/index.js';
import type { ModelMetadata } from '../../registry/index.js';
import { formatBytes, formatCount } from '../../units.js';
import { withRegistry } from '../context.js';
import { countOption, parsedOption, tokensOption } from '../options.js';
import { printJson, printTable } from '../output.js';
import type { GlobalOptions, Program } from '../program.js';


/** A registry entry, else a folder, cached or hub model read on the fly (nothing is registered). */
async function findModel(options: GlobalOptions, target: string): Promise<{ model: ModelMetadata; from: string; warnings: string[] }> {
  const registered = await withRegistry(options, (registry) => registry.getModel(target));
  if (registered) return { model: registered, from: 'registry', warnings: [] };
  const snapshot = await resolveHfSnapshot(target, { config: processConfig() });
  const model = createModelFromHuggingFace(snapshotModelId(snapshot), snapshot.config ?? {}, {
    weights: snapshot.weights, files: snapshot.files, pipelineTag: snapshot.pipelineTag, card: snapshot.card, warnings: snapshot.warnings,
  });
  return { model, from: snapshot.source, warnings: snapshot.warnings };
}

export function register(program: Program): void {
  const estimate = program
    .command('estimate <model>')
    .description('estimate the memory to run a model (registry id, hub id or model folder): weights + KV cache + overhead')
    .addOption(tokensOption('--context <n>', 'tokens per sequence, e.g. 8K = 8192 (default: the model context, at most 4096)'))
    .addOption(countOption('--batch <n>', 'sequences at once (default 1)', { min: 1, example: '4' }))
    .addOption(parsedOption('--dtype <dtype>', 'weights dtype: fp16, bf16, fp32, fp8, int8, int4, q8_0, q4_k_m, ... (default: the model\'s)', parseDtype))
    .addOption(parsedOption('--kv-dtype <dtype>', 'KV cache dtype (default fp16)', parseDtype));
  estimate.action(async (target) => {
    const o = estimate.optsWithGlobals();
    const { model, from, warnings } = await findModel(o, target);
    const e = estimateMemory(model, { context: o.context, batch: o.batch, dtype: o.dtype, kvDtype: o.kvDtype });
    for (const warning of new Set([...warnings, ...e.warnings])) process.stderr.write(`warning: ${warning}\n`);
    if (o.json) {
      printJson({ modelId: model.modelId, from, ...e });
      return;
    }
    process.stdout.write(`${model.modelId} (${from}): ${formatCount(e.parameterCount)} params, ${e.attentionType ?? 'attention unknown'}, context ${e.context}${e.contextLength ? ` of ${e.contextLength}` : ''}, batch ${e.batch}\n`);
    printTable(['PART', 'MEMORY', 'DETAIL'], [
      ['weights', formatBytes(e.weightsBytes), `${e.dtype}${e.parameterMethod ? `, params from ${e.parameterMethod}` : ''}`],
      ['kv cache', formatBytes(e.kvCacheBytes), `${formatBytes(e.kvCacheBytesPerToken)}/token x ${e.context} x ${e.batch} (${e.kvDtype}${e.slidingWindow ? `, sliding window ${e.slidingWindow}` : ''})`],
      ['overhead', formatBytes(e.overheadBytes), 'runtime, buffers, activations'],
      ['total', formatBytes(e.totalBytes), `${e.totalBytes} bytes`],
    ]);
    process.stdout.write(`method: ${e.method}\n`);
  });
}
