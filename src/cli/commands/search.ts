import { withRegistry } from '../context.js';
import { countOption } from '../options.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';
import { printModelTable } from './list.js';

export function register(program: Program): void {
  const search = program
    .command('search <text...>')
    .description('search names, tags and descriptions; best matches first')
    .addOption(countOption('--limit <n>', 'at most this many results', { min: 1, example: '20' }).default(20));
  search.action(async (words) => {
    const o = search.optsWithGlobals();
    const text = words.join(' ');
    await withRegistry(o, async (registry) => {
      const hits = await registry.searchModels(text, { limit: o.limit });
      if (o.json) return printJson({ query: text, count: hits.length, results: hits.map((h) => ({ score: h.score, ...h.model })) });
      if (hits.length === 0) process.stderr.write(`nothing matches "${text}"\n`);
      else printModelTable(hits.map((h) => h.model));
    });
  });
}
