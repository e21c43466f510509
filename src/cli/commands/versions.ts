import type { Command } from 'commander';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';

export function register(program: Command): void {
  program
    .command('versions <id>')
    .description('list the numbered versions of a model, and its aliases')
    .action(
      action(async (command, id: string) => {
        await withRegistry(command, async (registry) => {
          const versions = await registry.listVersions(id);
          const { aliases } = await registry.requireModel(id);
          if (optionsOf(command).json) return printJson({ modelId: id, aliases, versions });
          const byVersion = new Map<number, string[]>();
          for (const [alias, v] of Object.entries(aliases)) byVersion.set(v, [...(byVersion.get(v) ?? []), alias]);
          const last = versions.at(-1)?.version;
          printTable(['VERSION', 'CREATED', 'CHANGE', 'ALIASES'], versions.map((v) => [
            v.version === last ? `${v.version} (current)` : v.version, v.createdAt, v.change, byVersion.get(v.version)?.join(','),
          ]));
        });
      }),
    );
}
