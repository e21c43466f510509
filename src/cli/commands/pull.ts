import { isModelManagerError } from '../../errors.js';
import { pullToRegistry, type RegisteredPull } from '../../hub/index.js';
import { formatBytes } from '../../units.js';
import { withRegistry } from '../context.js';
import { repeatedOption } from '../options.js';
import { printJson, printTable, reportError } from '../output.js';
import type { Program } from '../program.js';
import { pullProgressBar } from '../pull-progress.js';
import { printWarnings } from './import.js';

function printDryRun({ pull }: RegisteredPull): void {
  printTable(['FILE', 'SIZE', 'STATE'], pull.files.map((f) => [f.path, formatBytes(f.size), f.state === 'missing' ? 'to download' : 'cached']));
  const missing = pull.files.filter((f) => f.state === 'missing').reduce((n, f) => n + f.size, 0);
  process.stdout.write(`${pull.files.length} files, ${formatBytes(pull.totalBytes)} in all, ${formatBytes(missing)} to download (${pull.repoId}@${pull.commit.slice(0, 12)})\n`);
}

export function register(program: Program): void {
  const pull = program
    .command('pull <model>')
    .description('download a Hugging Face model (org/name, or org/name:variant such as :Q4_K_M or :quantized) into the HF cache and register it')
    .option('--revision <rev>', 'branch, tag or commit on the hub', 'main')
    .addOption(repeatedOption('--include <glob>', 'also fetch files matching the glob (repeatable)'))
    .addOption(repeatedOption('--exclude <glob>', 'skip files matching the glob (repeatable)'))
    .option('--dry-run', 'list the files and bytes a pull would fetch, and fetch nothing');
  pull.action(async (name) => {
    const o = pull.optsWithGlobals();
    // Ctrl-C stops the pull cleanly: what is on disk stays, and the next pull resumes from it.
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    const bar = pullProgressBar({ enabled: !o.json && !o.dryRun && process.stderr.isTTY === true, label: name });
    try {
      await withRegistry(o, async (registry) => {
        const outcome = await pullToRegistry(registry, name, {
          revision: o.revision, include: o.include ?? [], exclude: o.exclude ?? [], dryRun: o.dryRun ?? false, signal: stop.signal, onProgress: bar.onProgress,
        });
        bar.stop();
        printWarnings(outcome.modelId, outcome.warnings);
        if (o.json) return printJson({ modelId: outcome.modelId, action: outcome.action, ...outcome.pull });
        if (o.dryRun) return printDryRun(outcome);
        const { pull: pulled } = outcome;
        const what = [pulled.format, pulled.variant].filter(Boolean).join(' ');
        process.stdout.write(`pulled ${pulled.repoId}${what ? ` (${what})` : ''} at ${pulled.commit.slice(0, 12)}: ${pulled.files.length} files, ${formatBytes(pulled.totalBytes)} (${formatBytes(pulled.downloadedBytes)} downloaded)\n`);
        process.stdout.write(`  ${outcome.action === 'added' ? 'registered as' : outcome.action === 'updated' ? 'files recorded on' : 'already registered as'} ${outcome.modelId}; run it with: mm embed|generate ${outcome.modelId} ...\n`);
      });
    } catch (error) {
      bar.stop();
      if (!isModelManagerError(error, 'INTERRUPTED')) throw error;
      reportError(error, o.json);
      process.exitCode = 130;
    } finally {
      bar.stop();
      process.off('SIGINT', onSignal);
    }
  });
}
