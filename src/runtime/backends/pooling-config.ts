/**
 * The pooling a sentence-transformers export declares (`modules.json` -> the Pooling module's
 * `config.json`), so a model trained for CLS pooling is not mean-pooled by default.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** `cls` when the model's Pooling module asks for the CLS token, else `mean` (the sentence-transformers default). */
export async function sentenceTransformersPooling(folder: string): Promise<'mean' | 'cls'> {
  const modules = await readJson(join(folder, 'modules.json'));
  const pooling = Array.isArray(modules)
    ? (modules as { type?: unknown; path?: unknown }[]).find((m) => typeof m.type === 'string' && m.type.endsWith('.Pooling'))
    : undefined;
  const path = typeof pooling?.path === 'string' ? pooling.path : '1_Pooling';
  const config = (await readJson(join(folder, path, 'config.json'))) as { pooling_mode_cls_token?: unknown; pooling_mode_mean_tokens?: unknown } | undefined;
  return config?.pooling_mode_cls_token === true && config.pooling_mode_mean_tokens !== true ? 'cls' : 'mean';
}
