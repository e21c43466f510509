import type { Command } from 'commander';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('rollback <id> <version>')
    .description('make a new version equal to an old one (a number or an alias)')
    .action(
      action(async (command, id: string, version: string) => {
        await withRegistry(command, async (registry) => {
          const model = await registry.rollback(id, version);
          const current = (await registry.listVersions(id)).at(-1)?.version;
          if (optionsOf(command).json) printJson({ version: current, model });
          else process.stdout.write(`${id}: version ${current} now equals version ${version}\n`);
        });
      }),
    );
}
