import { Discovery } from '../../discovery/index.js';
import { withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const validate = program
    .command('validate <id>')
    .description("check a model's files: present, header sizes consistent with file sizes, shards complete (exit 1 when not)");
  validate.action(async (id) => {
    const o = validate.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      await using d = await Discovery.create({ registry });
      const report = await d.validate(id);
      if (o.json) printJson(report);
      else printTable(['CHECK', 'OK', 'DETAIL'], report.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.message]));
      if (!report.ok) {
        const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
        process.stderr.write(`mm: ${report.modelId} failed validation: ${failed.join(', ')}\n`);
        process.exitCode = 1;
      }
    });
  });
}
