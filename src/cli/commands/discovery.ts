import { Discovery } from '../../discovery/index.js';
import { withRegistry } from '../context.js';
import { countOption } from '../options.js';
import { printFields, printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const discovery = program.command('discovery').description('discovery: last scan, roots, settings and logs');
  const statusCommand = discovery
    .command('status')
    .description('the last scan (when, how long, counts), the roots and settings')
    .option('--settings <file>', 'model_discovery.json to use');
  statusCommand.action(async () => {
    const o = statusCommand.optsWithGlobals();
    await withRegistry(o, async (registry) => {
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
  });
  const logsCommand = discovery
    .command('logs')
    .description('scan log entries, newest first')
    .addOption(countOption('--limit <n>', 'how many entries', { min: 1, example: '50' }).default(50));
  logsCommand.action(async () => {
    const o = logsCommand.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      await using d = await Discovery.create({ registry });
      const entries = await d.logs({ limit: o.limit });
      if (o.json) return printJson(entries);
      printTable(['AT', 'LEVEL', 'MESSAGE', 'PATH'], entries.map((e) => [e.at, e.level, e.message, e.path]));
    });
  });
}
