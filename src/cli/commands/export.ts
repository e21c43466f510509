import { withRegistry } from '../context.js';
import { choiceOption } from '../options.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const exporter = program
    .command('export <file>')
    .description('write every model to a JSON or YAML file (atomically)')
    .addOption(choiceOption('--format <format>', 'json or yaml (default: from the file name)', ['json', 'yaml'] as const))
    .option('--with-history', 'every version of every model, not only the current one (`mm restore` replays them)');
  exporter.action(async (file) => {
    const o = exporter.optsWithGlobals();
    const withHistory = o.withHistory === true;
    await withRegistry(o, async (registry) => {
      const count = await registry.exportMetadata(file, o.format, { withHistory });
      if (o.json) printJson({ file, count, ...(withHistory ? { withHistory } : {}) });
      else process.stdout.write(`exported ${count} models${withHistory ? ' with every version' : ''} to ${file}\n`);
    });
  });
}
