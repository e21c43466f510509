import type { Command } from 'commander';
import { Discovery } from '../../discovery/index.js';
import { action, optionsOf, withRegistry } from '../context.js';
import { printFields, printJson, printTable } from '../output.js';

export function register(program: Command): void {
  const discovery = program.command('discovery').description('discovery: last scan, roots, settings and logs');
  discovery
    .command('status')
    .description('the last scan (when, how long, counts), the roots and settings')
    .option('--settings <file>', 'model_discovery.json to use')
    .action(
      action(async (command) => {
        const o = optionsOf<{ settings?: string }>(command);
        await withRegistry(command, async (registry) => {
          await using d = await Discovery.create({ registry, settingsPath: o.settings });
          const status = d.status();
          if (o.json) return printJson(status);
          const last = status.lastScan;
          printFields([
            ['last scan', last ? `${last.finishedAt} (${last.durationMs} ms)` : 'never'],
            ['counts', last && Object.entries(last.counts).map(([k, v]) => `${k} ${v}`).join(', ')],
            ['roots', status.roots.join(', ') || '(none exist)'],
            ['interval', `${status.settings.scanIntervalMinutes} min`],
            ['max depth', status.settings.maxScanDepth],
            ['formats', status.settings.supportedFormats.join(', ')],
            ['excluded', status.settings.excludePatterns.join(', ')],
          ]);
          if (last && last.counts.warnings > 0) {
            const warnings = (await d.logs({ limit: 1000 })).filter((e) => e.scanId === last.scanId && e.level !== 'info').slice(0, 50);
            process.stdout.write('\nwarnings of the last scan:\n');
            printTable(['PATH', 'REASON'], warnings.map((w) => [w.path, w.message]));
          }
        });
      }),
    );
  discovery
    .command('logs')
    .description('scan log entries, newest first')
    .option('--limit <n>', 'how many entries', (v) => Number.parseInt(v, 10), 50)
    .action(
      action(async (command) => {
        const o = optionsOf<{ limit: number }>(command);
        await withRegistry(command, async (registry) => {
          await using d = await Discovery.create({ registry });
          const entries = await d.logs({ limit: o.limit });
          if (o.json) return printJson(entries);
          printTable(['AT', 'LEVEL', 'MESSAGE', 'PATH'], entries.map((e) => [e.at, e.level, e.message, e.path]));
        });
      }),
    );
}
