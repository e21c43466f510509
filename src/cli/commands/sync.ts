import { syncHuggingFace, syncStaticModels } from '../../hub/index.js';
import type { Registry } from '../../registry/index.js';
import { withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';
import { printWarnings } from './import.js';

export function register(program: Program): void {
  const sync = program
    .command('sync')
    .description('re-import every model imported from Hugging Face: a changed config makes a new version, an unchanged one does not')
    .option('--static', 'register the static model definitions that ship with Model Manager instead (well-known models, sized from their published configs)');
  sync.action(async () => {
    const o = sync.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      if (o.static) return syncStatic(registry, o.json === true);
      const results = await syncHuggingFace(registry);
      for (const r of results) {
        if (r.action === 'failed') process.stderr.write(`mm: ${r.modelId}: ${r.error.message} [${r.error.code}]\n`);
        else printWarnings(r.modelId, r.warnings);
      }
      if (results.some((r) => r.action === 'failed')) process.exitCode = 1;
      if (o.json) {
        printJson({
          results: results.map((r) => (r.action === 'failed' ? r : { modelId: r.modelId, action: r.action, version: r.version, source: r.source, location: r.location, warnings: r.warnings })),
        });
      } else if (results.length === 0) {
        process.stderr.write('no models imported from Hugging Face yet; `mm import <org/name>` adds one\n');
      } else {
        printTable(['ID', 'ACTION', 'VERSION', 'SOURCE'], results.map((r) => (r.action === 'failed' ? [r.modelId, 'failed', '', r.error.code] : [r.modelId, r.action, r.version, r.source])));
      }
    });
  });
}

/** `mm sync --static`: one row per static definition. */
async function syncStatic(registry: Registry, json: boolean): Promise<void> {
  const results = await syncStaticModels(registry);
  if (json) return printJson({ results });
  printTable(['ID', 'ACTION', 'NOTE'], results.map((r) => [r.modelId, r.action, r.reason]));
}
