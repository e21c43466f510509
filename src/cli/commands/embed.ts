import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { ModelManager, parseDevice, type EmbeddingTaskOutput } from '../../runtime/index.js';
import { action, optionsOf, settingsOf, withRegistry, withSettingsOptions, type SettingsOptions } from '../context.js';
import { printJson } from '../output.js';

interface EmbedOptions {
  device?: string;
  pooling?: string;
  normalize?: boolean;
}

export function register(program: Command): void {
  withSettingsOptions(program.command('embed <model> <text...>'))
    .description('embed texts with a model (registry id, HF id, model folder/file, or configured model)')
    .option('--device <device>', 'cpu, gpu, cuda:N or auto (defaults to the configured model\'s, else auto)')
    .option('--pooling <kind>', 'mean, cls or none (defaults to the model\'s own)')
    .option('--no-normalize', 'keep the raw vectors (no L2 normalisation)')
    .action(
      action(async (command, model: string, texts: string[]) => {
        const o = optionsOf<EmbedOptions & SettingsOptions>(command);
        const settings = await settingsOf(o);
        await withRegistry(command, async (registry) => {
          const manager = await ModelManager.create({ registry, defaultKeepAlive: 0, settings });
          try {
            const result = await manager.task({
              taskData: texts,
              taskType: 'embedding',
              modelName: model,
              ...(o.device === undefined ? {} : { device: parseDevice(o.device) }),
              ...(o.pooling ? { pooling: o.pooling } : {}),
              ...(o.normalize === false ? { normalize: false } : {}),
              countTokens: true,
            });
            if (!result.success) throw new ModelManagerError(result.error.code, result.error.message, { details: result.error.details });
            const data = result.data as EmbeddingTaskOutput;
            if (o.json) return printJson(data);
            const tokens = data.usage.tokens === undefined ? '' : `, ${data.usage.tokens} tokens`;
            process.stdout.write(`${data.embeddings.length} embedding(s), ${data.dimensions} dimensions${tokens}, model ${model}\n`);
            data.embeddings.forEach((vector, i) => {
              const head = vector.slice(0, 6).map((v) => v.toFixed(4)).join(', ');
              process.stdout.write(`${JSON.stringify(texts[i]).slice(0, 40)}: [${head}${vector.length > 6 ? ', ...' : ''}]\n`);
            });
          } finally {
            await manager.shutdown();
          }
        });
      }),
    );
}
