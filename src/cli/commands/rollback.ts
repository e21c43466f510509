import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const rollback = program
    .command('rollback <id> <version>')
    .description('make a new version equal to an old one (a number or an alias)');
  rollback.action(async (id, version) => {
    const o = rollback.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const model = await registry.rollback(id, version);
      const current = (await registry.listVersions(id)).at(-1)?.version;
      if (o.json) printJson({ version: current, model });
      else process.stdout.write(`${id}: version ${current} now equals version ${version}\n`);
    });
  });
}
