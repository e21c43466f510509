/**
 * Reads a model folder laid out as on the hub (config.json, tokenizer_config.json,
 * generation_config.json, README.md, *.safetensors): headers only, never the weights.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelManagerError } from '../errors.js';
import { oneSafetensorsVariant, readSafetensorsModel } from '../formats/index.js';
import type { ModelFile } from '../registry/index.js';
import { parseModelCard } from './model-card.js';
import { MAX_CONFIG_BYTES, MAX_README_BYTES, parseConfigJson, parseOptionalConfig, type HfSnapshot, type HfSourceKind, type WeightsSummary } from './snapshot.js';

/** Reads at most `limit` bytes of a file; undefined when it does not exist. */
async function readText(path: string, limit: number): Promise<{ text: string; truncated: boolean } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelManagerError('FILE_NOT_FOUND', `cannot read ${path}: ${(error as Error).message}`, { details: { path }, cause: error });
  }
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(size, limit));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), truncated: size > limit };
  } finally {
    await handle.close();
  }
}

async function readJsonFile(dir: string, name: string): Promise<string | undefined> {
  const file = await readText(join(dir, name), MAX_CONFIG_BYTES);
  if (file?.truncated) {
    throw new ModelManagerError('INVALID_CONFIG', `${join(dir, name)} is larger than ${MAX_CONFIG_BYTES} bytes: not a model config`, { details: { file: join(dir, name) } });
  }
  return file?.text;
}

/** Which safetensors files describe the weights: an index wins over single files. */
function weightFiles(names: string[]): string[] {
  const indexes = names.filter((n) => n.endsWith('.safetensors.index.json'));
  if (indexes.length > 0) return [indexes.includes('model.safetensors.index.json') ? 'model.safetensors.index.json' : indexes[0]!];
  if (names.includes('model.safetensors')) return ['model.safetensors'];
  return oneSafetensorsVariant(names.filter((n) => n.endsWith('.safetensors')));
}

async function readWeights(dir: string, names: string[], warnings: string[]): Promise<WeightsSummary | undefined> {
  const chosen = weightFiles(names);
  if (chosen.length === 0) return undefined;
  try {
    const summary: WeightsSummary = { parameterCount: 0, parametersByDtype: {}, files: [] };
    for (const name of chosen) {
      const part = await readSafetensorsModel(join(dir, name));
      summary.parameterCount += part.parameterCount;
      for (const [dtype, count] of Object.entries(part.parametersByDtype)) summary.parametersByDtype[dtype] = (summary.parametersByDtype[dtype] ?? 0) + count;
      summary.files.push(...part.files.map((f) => f.path));
    }
    return summary;
  } catch (error) {
    warnings.push(`could not read the safetensors headers (${(error as Error).message}); parameter count taken from config.json`);
    return undefined;
  }
}

/**
 * Reads a model folder. config.json must be there and be a JSON object; everything else is
 * optional, and a broken optional file is a warning.
 * @throws ModelManagerError FILE_NOT_FOUND (no config.json), INVALID_CONFIG (unreadable config.json)
 */
export async function readModelFolder(dir: string, { source = 'local' as HfSourceKind } = {}): Promise<HfSnapshot> {
  const warnings: string[] = [];
  const configText = await readJsonFile(dir, 'config.json');
  if (configText === undefined) {
    throw new ModelManagerError('FILE_NOT_FOUND', `${dir} has no config.json: import a Hugging Face model folder, a hub id (org/name) or a cached model`, {
      details: { path: dir },
    });
  }
  const config = parseConfigJson(configText, join(dir, 'config.json'));
  const names = (await readdir(dir)).sort();
  const files: ModelFile[] = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (!info) warnings.push(`${name} is a broken link (its blob is missing from the cache)`);
    else if (info.isFile()) files.push({ path: name, size: info.size, mtimeMs: info.mtimeMs });
  }
  const present = new Set(files.map((f) => f.path));
  const readme = present.has('README.md') ? await readText(join(dir, 'README.md'), MAX_README_BYTES) : undefined;
  const card = readme ? parseModelCard(readme.text) : undefined;
  if (card?.warning) warnings.push(card.warning);
  const snapshot: HfSnapshot = {
    source,
    location: dir,
    config,
    tokenizerConfig: parseOptionalConfig(present.has('tokenizer_config.json') ? await readJsonFile(dir, 'tokenizer_config.json') : undefined, join(dir, 'tokenizer_config.json'), warnings),
    generationConfig: parseOptionalConfig(present.has('generation_config.json') ? await readJsonFile(dir, 'generation_config.json') : undefined, join(dir, 'generation_config.json'), warnings),
    card,
    pipelineTag: card?.pipelineTag,
    hubTags: [],
    weights: await readWeights(dir, [...present], warnings),
    files,
    warnings,
  };
  return snapshot;
}
