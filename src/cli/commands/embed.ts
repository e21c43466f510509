import { ModelManager, parseDevice, resultError, type EmbeddingTaskOutput } from '../../runtime/index.js';
import { settingsOf, withRegistry, withSettingsOptions } from '../context.js';
import { choiceOption, parsedOption } from '../options.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';
import { pullProgressBar } from '../pull-progress.js';

export function register(program: Program): void {
  const embed = withSettingsOptions(program.command('embed <model> <text...>'))
    .description('embed texts with a model (registry id, HF id, model folder/file, or configured model)')
    .addOption(parsedOption('--device <device>', 'cpu, gpu, cuda:N or auto (defaults to the configured model\'s, else auto)', parseDevice))
    .addOption(choiceOption('--pooling <kind>', 'mean, cls or none (defaults to the model\'s own)', ['mean', 'cls', 'none'] as const))
    .option('--no-normalize', 'keep the raw vectors (no L2 normalisation)');
  embed.action(async (model, texts) => {
    const o = embed.optsWithGlobals();
    const settings = await settingsOf(o);
    await withRegistry(o, async (registry) => {
      // A hub id not on disk is pulled first; its progress shows on a terminal.
      const bar = pullProgressBar({ enabled: !o.json && process.stderr.isTTY === true, label: model });
      const manager = await ModelManager.create({ registry, defaultKeepAlive: 0, pull: { onProgress: bar.onProgress }, settings });
      try {
        const result = await manager.task({
          taskData: texts,
          taskType: 'embedding',
          modelName: model,
          ...(o.device === undefined ? {} : { device: o.device }),
          ...(o.pooling ? { pooling: o.pooling } : {}),
          ...(o.normalize === false ? { normalize: false } : {}),
          countTokens: true,
        });
        bar.stop();
        if (!result.success) throw resultError(result.error);
        const data = result.data as EmbeddingTaskOutput;
        if (o.json) return printJson(data);
        const tokens = data.usage.tokens === undefined ? '' : `, ${data.usage.tokens} tokens`;
        const where = data.device ? `, on ${data.device}${data.gpuKind ? ` (${data.gpuKind})` : ''}` : ', from the cache';
        process.stdout.write(`${data.embeddings.length} embedding(s), ${data.dimensions} dimensions${tokens}, model ${model}${where}\n`);
        data.embeddings.forEach((vector, i) => {
          const head = vector.slice(0, 6).map((v) => v.toFixed(4)).join(', ');
          process.stdout.write(`${JSON.stringify(texts[i]).slice(0, 40)}: [${head}${vector.length > 6 ? ', ...' : ''}]\n`);
        });
      } finally {
        await manager.shutdown();
      }
    });
  });
}
