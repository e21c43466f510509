import { ModelManagerError } from '../../errors.js';
import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const remove = program
    .command('remove <id>')
    .alias('delete')
    .description('remove a model and its history from the registry (files on disk are left alone)');
  remove.action(async (id) => {
    const o = remove.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      if (!(await registry.removeModel(id))) {
        throw new ModelManagerError('MODEL_NOT_FOUND', `model "${id}" is not registered; nothing removed`, { details: { modelId: id } });
      }
      if (o.json) printJson({ removed: id });
      else process.stdout.write(`removed ${id}\n`);
    });
  });
}
