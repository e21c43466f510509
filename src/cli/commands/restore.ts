import type { Command } from 'commander';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('restore <file>')
    .alias('import-metadata')
    .description('import an export file (also the Python managers\' snake_case JSON): adds new models (with every version from an export --with-history), versions changed ones')
    .action(
      action(async (command, file: string) => {
        await withRegistry(command, async (registry) => {
          const result = await registry.importMetadata(file);
          if (optionsOf(command).json) return printJson(result);
          const versions = result.restoredVersions === undefined ? '' : ` (${result.restoredVersions} versions from the file's history)`;
          process.stdout.write(`added ${result.added.length}${versions}, updated ${result.updated.length}, unchanged ${result.unchanged.length}\n`);
        });
      }),
    );
}
