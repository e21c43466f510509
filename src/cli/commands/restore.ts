import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const restore = program
    .command('restore <file>')
    .alias('import-metadata')
    .description('import an export file (also the Python managers\' snake_case JSON): adds new models (with every version from an export --with-history), versions changed ones');
  restore.action(async (file) => {
    const o = restore.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const result = await registry.importMetadata(file);
      if (o.json) return printJson(result);
      const versions = result.restoredVersions === undefined ? '' : ` (${result.restoredVersions} versions from the file's history)`;
      process.stdout.write(`added ${result.added.length}${versions}, updated ${result.updated.length}, unchanged ${result.unchanged.length}\n`);
    });
  });
}
