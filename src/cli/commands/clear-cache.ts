import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const clear = program
    .command('clear-cache [id]')
    .description('empty the cache of computed values, for one model or all');
  clear.action(async (id) => {
    const o = clear.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const removed = await registry.clearCache(id);
      if (o.json) printJson({ modelId: id ?? null, removed });
      else process.stdout.write(`cleared ${removed} cached value(s)${id ? ` of ${id}` : ''}\n`);
    });
  });
}
