import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import type { ExportFormat } from '../../registry/index.js';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('export <file>')
    .description('write every model to a JSON or YAML file (atomically)')
    .option('--format <format>', 'json or yaml (default: from the file name)')
    .option('--with-history', 'every version of every model, not only the current one (`mm restore` replays them)')
    .action(
      action(async (command, file: string) => {
        const o = optionsOf<{ format?: string; withHistory?: boolean }>(command);
        if (o.format !== undefined && o.format !== 'json' && o.format !== 'yaml') {
          throw new ModelManagerError('INVALID_ARGUMENT', `unknown export format "${o.format}": use json or yaml`);
        }
        await withRegistry(command, async (registry) => {
          const count = await registry.exportMetadata(file, o.format as ExportFormat | undefined, { withHistory: o.withHistory ?? false });
          if (o.json) printJson({ file, count, ...(o.withHistory ? { withHistory: true } : {}) });
          else process.stdout.write(`exported ${count} models${o.withHistory ? ' with every version' : ''} to ${file}\n`);
        });
      }),
    );
}
