import type { Command } from 'commander';
import { readMetadataFile } from '../../registry/index.js';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('add <file>')
    .description('add models from a JSON or YAML file (one record, a list, or {models: [...]}); all or none')
    .action(
      action(async (command, file: string) => {
        const models = await readMetadataFile(file);
        await withRegistry(command, async (registry) => {
          const added = await registry.addModels(models);
          if (optionsOf(command).json) printJson({ added: added.map((m) => m.modelId) });
          else process.stdout.write(`added ${added.map((m) => m.modelId).join(', ')}\n`);
        });
      }),
    );
}
