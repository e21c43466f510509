import type { Command } from 'commander';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('restore <file>')
    .alias('import-metadata')
    .description('import an export file (also the Python managers\' snake_case JSON): adds new models, versions changed ones')
    .action(
      action(async (command, file: string) => {
        await withRegistry(command, async (registry) => {
          const result = await registry.importMetadata(file);
          if (optionsOf(command).json) return printJson(result);
          process.stdout.write(`added ${result.added.length}, updated ${result.updated.length}, unchanged ${result.unchanged.length}\n`);
        });
      }),
    );
}
