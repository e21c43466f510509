import { readMetadataFile } from '../../registry/index.js';
import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const add = program
    .command('add <file>')
    .description('add models from a JSON or YAML file (one record, a list, or {models: [...]}); all or none');
  add.action(async (file) => {
    const o = add.optsWithGlobals();
    const models = await readMetadataFile(file);
    await withRegistry(o, async (registry) => {
      const added = await registry.addModels(models);
      if (o.json) printJson({ added: added.map((m) => m.modelId) });
      else process.stdout.write(`added ${added.map((m) => m.modelId).join(', ')}\n`);
    });
  });
}
