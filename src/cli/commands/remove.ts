import { ModelManagerError } from '../../errors.js';
import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const remove = program
    .command('remove <id>')
    .alias('delete')
    .description('delete a model: hidden from every list, its history kept (`mm rollback` restores it); files on disk are left alone')
    .option('--hard', 'remove it and its history for good');
  remove.action(async (id) => {
    const o = remove.optsWithGlobals();
    const hard = o.hard === true;
    await withRegistry(o, async (registry) => {
      const before = hard ? undefined : (await registry.listVersions(id).catch(() => [])).at(-1)?.version;
      if (!(await registry.deleteModel(id, { hard }))) {
        throw new ModelManagerError('MODEL_NOT_FOUND', `model "${id}" is not registered; nothing deleted`, { details: { modelId: id } });
      }
      if (o.json) return printJson({ removed: id, hard, ...(before === undefined ? {} : { restoreVersion: before }) });
      if (hard) process.stdout.write(`removed ${id} and its history\n`);
      else process.stdout.write(`deleted ${id}: hidden, its history kept (\`mm rollback ${id} ${before}\` restores it, \`mm delete ${id} --hard\` removes it for good)\n`);
    });
  });
}
