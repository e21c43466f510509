import type { Command } from 'commander';
import { action, optionsOf, quantity, withRegistry } from '../context.js';
import { printJson } from '../output.js';
import { printModelTable } from './list.js';

export function register(program: Command): void {
  program
    .command('search <text...>')
    .description('search names, tags and descriptions; best matches first')
    .option('--limit <n>', 'at most this many results (default 20)', quantity('limit'))
    .action(
      action(async (command, words: string[]) => {
        const o = optionsOf<{ limit?: number }>(command);
        await withRegistry(command, async (registry) => {
          const hits = await registry.searchModels(words.join(' '), { limit: o.limit ?? 20 });
          if (o.json) return printJson({ query: words.join(' '), count: hits.length, results: hits.map((h) => ({ score: h.score, ...h.model })) });
          if (hits.length === 0) process.stderr.write(`nothing matches "${words.join(' ')}"\n`);
          else printModelTable(hits.map((h) => h.model));
        });
      }),
    );
}
