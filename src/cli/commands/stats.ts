import type { Command } from 'commander';
import { formatCount } from '../../units.js';
import { action, optionsOf, withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';

export function register(program: Command): void {
  program
    .command('stats')
    .description('count models by type, architecture, attention, format and source')
    .action(
      action(async (command) => {
        await withRegistry(command, async (registry) => {
          const stats = await registry.getStats();
          if (optionsOf(command).json) return printJson(stats);
          process.stdout.write(`models: ${stats.totalModels}   versions: ${stats.totalVersions}   parameters: ${formatCount(stats.totalParameters)}\n`);
          const groups = [['type', stats.byType], ['architecture', stats.byArchitecture], ['attention', stats.byAttentionType], ['format', stats.byFormat], ['source', stats.bySource]] as const;
          for (const [name, counts] of groups) {
            const rows = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
            if (rows.length === 0) continue;
            process.stdout.write(`\nby ${name}:\n`);
            printTable([name.toUpperCase(), 'MODELS'], rows);
          }
        });
      }),
    );
}
