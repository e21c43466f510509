import { formatCount } from '../../units.js';
import { withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const stats = program
    .command('stats')
    .description('count models by type, architecture, attention, format and source');
  stats.action(async () => {
    const o = stats.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const s = await registry.getStats();
      if (o.json) return printJson(s);
      process.stdout.write(`models: ${s.totalModels}   versions: ${s.totalVersions}   parameters: ${formatCount(s.totalParameters)}\n`);
      const groups = [['type', s.byType], ['architecture', s.byArchitecture], ['attention', s.byAttentionType], ['format', s.byFormat], ['source', s.bySource]] as const;
      for (const [name, counts] of groups) {
        const rows = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
        if (rows.length === 0) continue;
        process.stdout.write(`\nby ${name}:\n`);
        printTable([name.toUpperCase(), 'MODELS'], rows);
      }
    });
  });
}
