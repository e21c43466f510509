import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { ModelManager, parseDevice, type GenerationTaskOutput } from '../../runtime/index.js';
import { parseQuantity } from '../../units.js';
import { action, optionsOf, settingsOf, withRegistry, withSettingsOptions, type SettingsOptions } from '../context.js';
import { printJson } from '../output.js';

const DEFAULT_MAX_TOKENS = 128;

interface GenerateOptions {
  maxTokens?: string;
  temperature?: string;
  seed?: string;
  device?: string;
}

export function register(program: Command): void {
  withSettingsOptions(program.command('generate <model> <prompt>'))
    .description('generate text from a prompt (streams to the terminal)')
    .option('--max-tokens <n>', `most new tokens (defaults to the configured model's maxOutputLength, else ${DEFAULT_MAX_TOKENS})`)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)')
    .option('--seed <n>', 'random seed, for repeatable output')
    .option('--device <device>', 'cpu, gpu, cuda:N or auto (defaults to the configured model\'s, else auto)')
    .action(
      action(async (command, model: string, prompt: string) => {
        const o = optionsOf<GenerateOptions & SettingsOptions>(command);
        const stream = !o.json && process.stdout.isTTY === true;
        const settings = await settingsOf(o);
        await withRegistry(command, async (registry) => {
          const manager = await ModelManager.create({ registry, defaultKeepAlive: 0, settings });
          try {
            // A configured model's own maxOutputLength applies unless the flag says otherwise.
            const maxTokens = o.maxTokens !== undefined ? parseQuantity(o.maxTokens, 'max tokens') : manager.configuredModel(model) ? undefined : DEFAULT_MAX_TOKENS;
            const result = await manager.task({
              taskData: prompt,
              taskType: 'text_generation',
              modelName: model,
              ...(o.device === undefined ? {} : { device: parseDevice(o.device) }),
              ...(maxTokens === undefined ? {} : { maxTokens }),
              ...(o.temperature !== undefined ? { temperature: number(o.temperature, 'temperature') } : {}),
              ...(o.seed !== undefined ? { seed: parseQuantity(o.seed, 'seed') } : {}),
              ...(stream ? { onToken: (text: string) => process.stdout.write(text) } : {}),
            });
            if (!result.success) throw new ModelManagerError(result.error.code, result.error.message, { details: result.error.details });
            const data = result.data as GenerationTaskOutput;
            if (o.json) return printJson(data);
            process.stdout.write(stream ? '\n' : `${data.generatedText}\n`);
            process.stderr.write(`${data.tokens} tokens generated (prompt: ${data.promptTokens} tokens), finish: ${data.finishReason}\n`);
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
