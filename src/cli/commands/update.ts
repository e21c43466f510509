import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { ModelManagerError } from '../../errors.js';
import { fromSnakeCase } from '../../registry/index.js';
import { withRegistry } from '../context.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';

/** Reads a patch from a file, or inline JSON when the argument starts with `{`. */
async function readPatch(source: string): Promise<Record<string, unknown>> {
  let text = source;
  if (!source.trimStart().startsWith('{')) {
    try {
      text = await readFile(source, 'utf8');
    } catch (error) {
      throw new ModelManagerError('FILE_NOT_FOUND', `cannot read ${source}: ${(error as Error).message}`, { cause: error });
    }
  }
  let patch: unknown;
  try {
    patch = /\.ya?ml$/i.test(source) ? YAML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new ModelManagerError('INVALID_FILE', `the patch is not valid JSON/YAML: ${(error as Error).message}`, { cause: error });
  }
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new ModelManagerError('INVALID_ARGUMENT', 'a patch must be a JSON object of the fields to change (null removes a field)');
  }
  return fromSnakeCase(patch) as Record<string, unknown>;
}

export function register(program: Program): void {
  const update = program
    .command('update <id> <patch>')
    .description('change a model with a JSON merge patch (a file, or inline JSON); makes a new version');
  update.action(async (id, source) => {
    const o = update.optsWithGlobals();
    const patch = await readPatch(source);
    await withRegistry(o, async (registry) => {
      const model = await registry.updateModel(id, patch);
      const version = (await registry.listVersions(id)).at(-1)?.version;
      if (o.json) printJson({ version, model });
      else process.stdout.write(`updated ${id} (version ${version})\n`);
    });
  });
}
