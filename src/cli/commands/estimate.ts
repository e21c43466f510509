import type { Command } from 'commander';
import { config as processConfig } from '../../config.js';
import { estimateMemory } from '../../estimate/index.js';
import { createModelFromHuggingFace, snapshotModelId, resolveHfSnapshot } from '../../hub/index.js';
import type { ModelMetadata } from '../../registry/index.js';
import { parseQuantity, formatBytes, formatCount } from '../../units.js';
import { action, optionsOf, quantity, withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';

interface EstimateCliOptions {
  context?: number;
  batch?: number;
  dtype?: string;
  kvDtype?: string;
}

/** Context lengths are counted in binary thousands, as model cards do: 8K = 8192, 128K = 131072. */
export function parseTokens(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*k\s*$/i.exec(text);
  return match ? Math.round(Number(match[1]) * 1024) : parseQuantity(text, 'context length');
}

/** A registry entry, else a folder, cached or hub model read on the fly (nothing is registered). */
async function findModel(command: Command, target: string): Promise<{ model: ModelMetadata; from: string; warnings: string[] }> {
  const registered = await withRegistry(command, (registry) => registry.getModel(target));
  if (registered) return { model: registered, from: 'registry', warnings: [] };
  const snapshot = await resolveHfSnapshot(target, { config: processConfig() });
  const model = createModelFromHuggingFace(snapshotModelId(snapshot), snapshot.config ?? {}, {
    weights: snapshot.weights, files: snapshot.files, pipelineTag: snapshot.pipelineTag, card: snapshot.card, warnings: snapshot.warnings,
  });
  return { model, from: snapshot.source, warnings: snapshot.warnings };
}

export function register(program: Command): void {
  program
    .command('estimate <model>')
    .description('estimate the memory to run a model (registry id, hub id or model folder): weights + KV cache + overhead')
    .option('--context <n>', 'tokens per sequence, e.g. 8K = 8192 (default: the model context, at most 4096)', parseTokens)
    .option('--batch <n>', 'sequences at once (default 1)', quantity('batch'))
    .option('--dtype <dtype>', 'weights dtype: fp16, bf16, fp32, fp8, int8, int4, q8_0, q4_k_m, ... (default: the model\'s)')
    .option('--kv-dtype <dtype>', 'KV cache dtype (default fp16)')
    .action(
      action(async (command, target: string) => {
        const o = optionsOf<EstimateCliOptions>(command);
        const { model, from, warnings } = await findModel(command, target);
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
      }),
    );
}
