import { ModelManagerError } from '../../errors.js';
import { withRegistry } from '../context.js';
import { countOption } from '../options.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const metric = program
    .command('metric <id> <name> <value>')
    .description('record a quality metric, e.g. `mm metric mistralai/Mistral-7B-v0.1 MMLU 0.625 --shots 5`')
    .addOption(countOption('--shots <n>', 'few-shot count: examples shown before each question', { max: 1000, example: '5' }))
    .option('--source <text>', 'where the figure comes from')
    .option('--performance', 'record a free-form performance number instead (e.g. tokensPerSecond)');
  metric.action(async (id, name, raw) => {
    const o = metric.optsWithGlobals();
    const value = raw.trim() === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) {
      throw new ModelManagerError('INVALID_ARGUMENT', `the metric value takes a number, e.g. 0.625, not "${raw}"`, { details: { value: raw } });
    }
    await withRegistry(o, async (registry) => {
      const model = o.performance
        ? await registry.addPerformanceMetrics(id, { [name]: value })
        : await registry.addQualityMetric({ modelId: id, name, value, shots: o.shots, source: o.source });
      if (o.json) printJson({ modelId: id, qualityMetrics: model.qualityMetrics, performanceMetrics: model.performanceMetrics });
      else process.stdout.write(`${id}: ${name} = ${value}${o.shots !== undefined ? ` (${o.shots}-shot)` : ''}\n`);
    });
  });
}
