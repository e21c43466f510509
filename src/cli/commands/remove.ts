import type { Command } from 'commander';
import { ModelManagerError } from '../../errors.js';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('remove <id>')
    .alias('delete')
    .description('remove a model and its history from the registry (files on disk are left alone)')
    .action(
      action(async (command, id: string) => {
        await withRegistry(command, async (registry) => {
          if (!(await registry.removeModel(id))) {
            throw new ModelManagerError('MODEL_NOT_FOUND', `model "${id}" is not registered; nothing removed`, { details: { modelId: id } });
          }
          if (optionsOf(command).json) printJson({ removed: id });
          else process.stdout.write(`removed ${id}\n`);
        });
      }),
    );
}
