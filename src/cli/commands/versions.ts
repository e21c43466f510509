import { withRegistry } from '../context.js';
import { printJson, printTable } from '../output.js';
import type { Program } from '../program.js';

export function register(program: Program): void {
  const versions = program
    .command('versions <id>')
    .description('list the numbered versions of a model, and its aliases');
  versions.action(async (id) => {
    const o = versions.optsWithGlobals();
    await withRegistry(o, async (registry) => {
      const list = await registry.listVersions(id);
      // The latest version, not getModel: a deleted model keeps its history to be restored from.
      const { aliases, status } = await registry.getVersion(id, list.at(-1)!.version);
      const deleted = status === 'deleted';
      if (o.json) return printJson({ modelId: id, aliases, deleted, versions: list });
      const byVersion = new Map<number, string[]>();
      for (const [alias, v] of Object.entries(aliases)) byVersion.set(v, [...(byVersion.get(v) ?? []), alias]);
      const last = list.at(-1)?.version;
      printTable(['VERSION', 'CREATED', 'CHANGE', 'ALIASES'], list.map((v) => [
        v.version === last ? `${v.version} (current)` : v.version, v.createdAt, v.change, byVersion.get(v.version)?.join(','),
      ]));
      if (deleted) process.stderr.write(`${id} is deleted: \`mm rollback ${id} <version>\` restores it\n`);
    });
  });
}
