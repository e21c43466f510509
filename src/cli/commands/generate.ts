import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { ModelManager, parseDevice, type GenerationTaskOutput } from '../../runtime/index.js';
import { parseQuantity } from '../../units.js';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';
import { pullProgressBar } from '../pull-progress.js';

interface GenerateOptions {
  maxTokens?: string;
  temperature?: string;
  seed?: string;
  device?: string;
}

export function register(program: Command): void {
  program
    .command('generate <model> <prompt>')
    .description('generate text from a prompt (streams to the terminal)')
    .option('--max-tokens <n>', 'most new tokens', '128')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)')
    .option('--seed <n>', 'random seed, for repeatable output')
    .option('--device <device>', 'cpu, gpu, cuda:N or auto', 'auto')
    .action(
      action(async (command, model: string, prompt: string) => {
        const o = optionsOf<GenerateOptions>(command);
        const stream = !o.json && process.stdout.isTTY === true;
        await withRegistry(command, async (registry) => {
          // A hub id not on disk is pulled first; its progress shows on a terminal.
          const bar = pullProgressBar({ enabled: !o.json && process.stderr.isTTY === true, label: model });
          const manager = await ModelManager.create({ registry, defaultKeepAlive: 0, pull: { onProgress: bar.onProgress } });
          try {
            const result = await manager.task({
              taskData: prompt,
              taskType: 'text_generation',
              modelName: model,
              device: parseDevice(o.device ?? 'auto'),
              maxTokens: parseQuantity(o.maxTokens ?? '128', 'max tokens'),
              ...(o.temperature !== undefined ? { temperature: number(o.temperature, 'temperature') } : {}),
              ...(o.seed !== undefined ? { seed: parseQuantity(o.seed, 'seed') } : {}),
              ...(stream ? { onToken: (text: string) => process.stdout.write(text) } : {}),
            });
            bar.stop();
            if (!result.success) throw new ModelManagerError(result.error.code, result.error.message, { details: result.error.details });
            const data = result.data as GenerationTaskOutput;
            if (o.json) return printJson(data);
            process.stdout.write(stream ? '\n' : `${data.generatedText}\n`);
            process.stderr.write(`${data.tokens} tokens, finish: ${data.finishReason}\n`);
          } finally {
            await manager.shutdown();
          }
        });
      }),
    );
}

function number(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value)) throw new ModelManagerError('INVALID_ARGUMENT', `${what} must be a number, got "${text}"`);
  return value;
}
