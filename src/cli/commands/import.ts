import { importFromHuggingFace, type HfImportOutcome } from '../../hub/index.js';
import { formatBytes, formatCount } from '../../units.js';
import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

/** One line about what was imported, shared with `mm sync`. */
export function describeImported(outcome: HfImportOutcome): string {
  const m = outcome.model;
  const e = m.memoryEstimate;
  const parts = [
    m.modelType, m.architecture, m.parameterCount === undefined ? undefined : `${formatCount(m.parameterCount)} params`,
    m.attentionType, m.contextLength === undefined ? undefined : `context ${m.contextLength}`,
    e && `~${formatBytes(e.totalBytes)} at ${e.context} tokens (${e.dtype})`,
  ];
  return parts.filter(Boolean).join(', ');
}

export function printWarnings(modelId: string, warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`warning: ${modelId}: ${warning}\n`);
}

export function register(program: Program): void {
  const importer = program
    .command('import <source>')
    .description('import a Hugging Face model (hub id org/name, or a model folder) from a folder, the HF cache or the hub')
    .option('--force', 're-import a model that is already registered (makes a new version)')
    .option('--revision <rev>', 'branch, tag or commit on the hub', 'main')
    .option('--id <modelId>', 'registry id for a model folder (default: org/name from an org--name folder, else local/<folder>)');
  importer.action(async (source) => {
    const o = importer.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const outcome = await importFromHuggingFace(registry, source, { force: o.force, revision: o.revision, modelId: o.id });
      printWarnings(outcome.modelId, outcome.warnings);
      if (o.json) {
        printJson(outcome);
        return;
      }
      process.stdout.write(`${outcome.message}\n`);
      if (outcome.action !== 'exists') process.stdout.write(`  ${describeImported(outcome)}\n`);
    });
  });
}
