import cliProgress from 'cli-progress';
import { Discovery, type ScanProgress } from '../../discovery/index.js';
import { formatBytes } from '../../units.js';
import { withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

/** A progress bar on a TTY (folders while walking, then models); nothing otherwise. */
function progressReporter(enabled: boolean): { onProgress?: (p: ScanProgress) => void; stop(): void } {
  if (!enabled) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: 'scanning {bar} {value}/{total} {path}', stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress: (p) => {
      const path = p.path.length > 50 ? `…${p.path.slice(-49)}` : p.path;
      if (p.total === undefined) {
        if (!started) process.stderr.write(`\rwalking ${p.done} folders…`);
        return;
      }
      if (!started) {
        process.stderr.write('\r\x1b[K');
        bar.start(p.total, 0, { path });
        started = true;
      }
      bar.update(p.done, { path });
    },
    stop: () => {
      if (started) bar.stop();
      else process.stderr.write('\r\x1b[K');
    },
  };
}

export function register(program: Program): void {
  const scan = program
    .command('scan [roots...]')
    .description('find models on disk (default roots: ./models, HF cache, Ollama, LM Studio) and bring the registry in step')
    .option('--settings <file>', 'model_discovery.json to use (default: MM_HOME/model_discovery.json)')
    .option('--rules <file>', 'model_categorization.json to use (default: MM_HOME/model_categorization.json, else shipped rules)')
    .option('--follow-symlinks', 'follow symlinks that lead outside a root (default: the settings\' follow_symlinks, else stay inside each root)');
  scan.action(async (roots) => {
    const o = scan.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      await using discovery = await Discovery.create({ registry, settingsPath: o.settings, rulesPath: o.rules, ...(o.followSymlinks ? { settings: { followSymlinks: true } } : {}) });
      const progress = progressReporter(!o.json && process.stderr.isTTY === true);
      let report;
      try {
        report = await discovery.refresh({ roots: roots.length > 0 ? roots : undefined, onProgress: progress.onProgress });
      } finally {
        progress.stop();
      }
      if (o.json) return printJson(report);
      const c = report.counts;
      process.stdout.write(`scanned ${report.roots.join(', ') || '(no roots)'} in ${report.durationMs} ms, read ${formatBytes(report.bytesRead)} of headers\n`);
      printTable(['FOUND', 'ADDED', 'UPDATED', 'UNCHANGED', 'MISSING', 'WARNINGS'], [[c.scanned, c.added, c.updated, c.unchanged, c.missing, c.warnings]]);
      if (report.warnings.length > 0) {
        process.stdout.write('\nwarnings:\n');
        printTable(['PATH', 'REASON'], report.warnings.map((w) => [w.path, w.reason]));
      }
    });
  });
}
