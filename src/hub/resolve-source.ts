/**
 * Where a model named by the user is read from, in order: a folder on disk with config.json;
 * the Hugging Face cache; the hub (unless HF_HUB_OFFLINE is set).
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { Config } from '../config.js';
import { ModelManagerError, isModelManagerError } from '../errors.js';
import { findCachedSnapshot } from './cache.js';
import { HUB_ID_PATTERN } from './pull/hub-name.js';
import { fetchHubSnapshot } from './hub-client.js';
import { readModelFolder } from './local-folder.js';
import type { HfSnapshot } from './snapshot.js';

export { HUB_ID_PATTERN };

export interface ResolveOptions {
  /** Settings (HF cache, endpoint, token, offline). */
  config: Config;
  /** Branch, tag or commit. Defaults to `main`. */
  revision?: string;
  /** The fetch the hub client uses. Defaults to the global one. */
  fetch?: typeof fetch;
  /** Milliseconds each hub request may take. Defaults to 30000. */
  timeoutMs?: number;
}

/** The folder `idOrPath` names on disk, or undefined when it names none. */
export async function existingPath(idOrPath: string): Promise<string | undefined> {
  const path = resolve(expandHome(idOrPath));
  return (await stat(path).catch(() => undefined)) ? path : undefined;
}

function looksLikePath(text: string): boolean {
  return /^(\.{1,2}([/\\]|$)|[/\\~]|[A-Za-z]:[/\\])/.test(text);
}

function expandHome(text: string): string {
  return text === '~' || text.startsWith('~/') ? homedir() + text.slice(1) : text;
}

/**
 * Reads the model `idOrPath` names from the first source that has it.
 * @throws ModelManagerError FILE_NOT_FOUND, INVALID_ARGUMENT, INVALID_CONFIG, OFFLINE, AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE
 */
export async function resolveHfSnapshot(idOrPath: string, { config, revision = 'main', fetch, timeoutMs }: ResolveOptions): Promise<HfSnapshot> {
  const path = resolve(expandHome(idOrPath));
  const info = await stat(path).catch(() => undefined);
  if (info) {
    if (info.isDirectory()) return readModelFolder(path);
    if (basename(path) === 'config.json') return readModelFolder(dirname(path));
    throw new ModelManagerError('INVALID_ARGUMENT', `${idOrPath} is a file: give the model folder (the one holding config.json) or a hub id`, { details: { path } });
  }
  if (looksLikePath(idOrPath) || !HUB_ID_PATTERN.test(idOrPath)) {
    throw new ModelManagerError(looksLikePath(idOrPath) ? 'FILE_NOT_FOUND' : 'INVALID_ARGUMENT', `${idOrPath} is neither a folder nor a hub id like org/name`, {
      details: { value: idOrPath },
    });
  }

  const cached = findCachedSnapshot(idOrPath, { cacheDir: config.hf.hubCache, revision });
  let cacheWarning: string | undefined;
  if (cached) {
    try {
      const snapshot = await readModelFolder(cached.path, { source: 'cache' });
      return { ...snapshot, repoId: idOrPath, revision: cached.commit };
    } catch (error) {
      if (!isModelManagerError(error, 'FILE_NOT_FOUND')) throw error;
      cacheWarning = `the HF cache holds ${idOrPath} without config.json; read from the hub instead`;
    }
  }
  if (config.hf.offline) {
    throw new ModelManagerError('OFFLINE', `${idOrPath} is not in the HF cache (${config.hf.hubCache}) and HF_HUB_OFFLINE is set: download it first, point HF_HUB_CACHE at the cache that has it, or unset HF_HUB_OFFLINE`, {
      details: { repoId: idOrPath, cacheDir: config.hf.hubCache },
    });
  }
  const snapshot = await fetchHubSnapshot(idOrPath, { endpoint: config.hf.endpoint, token: config.hf.token, revision, fetch, timeoutMs });
  if (cacheWarning) snapshot.warnings.unshift(cacheWarning);
  return snapshot;
}
