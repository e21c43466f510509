import { ModelManager, parseDevice, resultError, type GenerationTaskOutput } from '../../runtime/index.js';
import { settingsOf, withRegistry, withSettingsOptions } from '../context.js';
import { countOption, decimalOption, parsedOption } from '../options.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';
import { pullProgressBar } from '../pull-progress.js';

const DEFAULT_MAX_TOKENS = 128;

export function register(program: Program): void {
  const generate = withSettingsOptions(program.command('generate <model> <prompt>'))
    .description('generate text from a prompt (streams to the terminal)')
    .addOption(countOption('--max-tokens <n>', `most new tokens (defaults to the configured model's maxOutputLength, else ${DEFAULT_MAX_TOKENS})`, { min: 1, example: '128' }))
    .addOption(decimalOption('--temperature <t>', 'sampling temperature (0 = greedy)', { example: '0.7' }))
    .addOption(countOption('--seed <n>', 'random seed, for repeatable output', { example: '42' }))
    .addOption(parsedOption('--device <device>', 'cpu, gpu, cuda:N or auto (defaults to the configured model\'s, else auto)', parseDevice));
  generate.action(async (model, prompt) => {
    const o = generate.optsWithGlobals();
    const stream = !o.json && process.stdout.isTTY === true;
    const settings = await settingsOf(o);
    await withRegistry(o, async (registry) => {
      // A hub id not on disk is pulled first; its progress shows on a terminal.
      const bar = pullProgressBar({ enabled: !o.json && process.stderr.isTTY === true, label: model });
      const manager = await ModelManager.create({ registry, defaultKeepAlive: 0, pull: { onProgress: bar.onProgress }, settings });
      try {
        // A configured model's own maxOutputLength applies unless the flag says otherwise.
        const maxTokens = o.maxTokens ?? (manager.configuredModel(model) ? undefined : DEFAULT_MAX_TOKENS);
        const result = await manager.task({
          taskData: prompt,
          taskType: 'text_generation',
          modelName: model,
          ...(o.device === undefined ? {} : { device: o.device }),
          ...(maxTokens === undefined ? {} : { maxTokens }),
          ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(stream ? { onToken: (text: string) => process.stdout.write(text) } : {}),
        });
        bar.stop();
        if (!result.success) throw resultError(result.error);
        const data = result.data as GenerationTaskOutput;
        if (o.json) return printJson(data);
        process.stdout.write(stream ? '\n' : `${data.generatedText}\n`);
        process.stderr.write(`${data.tokens} tokens generated (prompt: ${data.promptTokens} tokens), finish: ${data.finishReason}, on ${data.device ?? 'cpu'}${data.gpuKind ? ` (${data.gpuKind})` : ''}\n`);
      } finally {
        await manager.shutdown();
      }
    });
  });
}
