import type { Command } from 'commander';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  program
    .command('clear-cache [id]')
    .description('empty the cache of computed values, for one model or all')
    .action(
      action(async (command, id: string | undefined) => {
        await withRegistry(command, async (registry) => {
          const removed = await registry.clearCache(id);
          if (optionsOf(command).json) printJson({ modelId: id ?? null, removed });
          else process.stdout.write(`cleared ${removed} cached value(s)${id ? ` of ${id}` : ''}\n`);
        });
      }),
    );
}
