import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { action, optionsOf, quantity, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('metric <id> <name> <value>')
    .description('record a quality metric, e.g. `mm metric mistralai/Mistral-7B-v0.1 MMLU 0.625 --shots 5`')
    .option('--shots <n>', 'few-shot count', quantity('shot count'))
    .option('--source <text>', 'where the figure comes from')
    .option('--performance', 'record a free-form performance number instead (e.g. tokensPerSecond)')
    .action(
      action(async (command, id: string, name: string, raw: string) => {
        const o = optionsOf<{ shots?: number; source?: string; performance?: boolean }>(command);
        const value = Number(raw);
        if (!Number.isFinite(value)) throw new ModelManagerError('INVALID_ARGUMENT', `metric value "${raw}" is not a number`);
        await withRegistry(command, async (registry) => {
          const model = o.performance
            ? await registry.addPerformanceMetrics(id, { [name]: value })
            : await registry.addQualityMetric({ modelId: id, name, value, shots: o.shots, source: o.source });
          if (o.json) printJson({ modelId: id, qualityMetrics: model.qualityMetrics, performanceMetrics: model.performanceMetrics });
          else process.stdout.write(`${id}: ${name} = ${value}${o.shots !== undefined ? ` (${o.shots}-shot)` : ''}\n`);
        });
      }),
    );
}
