/**
 * Turns the name a user gives (registry id, Hugging Face id, model folder or file) into a
 * location on disk, the way the rest of Model Manager names models.
 *
 * Order: the registry (this host's location of the model, else `localPath`), an existing path, the HF cache
 * (`models--org--name/snapshots/<rev>`), each model root (`./models/<name>`), and last a pull
 * from the hub (autoPull). A registered id is resolved only through its record, whatever it
 * looks like: what the caller was allowed to run (decided on the record) is what loads, never a
 * path spelled like the id. A registered hub model without a copy on this host goes to the cache, then
 * to a pull, under its registry id.
 */
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { config as processConfig } from '../config.js';
import { ModelManagerError } from '../errors.js';
import { cacheFolderName } from '../hub/cache.js';
import { cachedModelPath } from '../hub/pull/cached-model.js';
import { parseHubName } from '../hub/pull/hub-name.js';
import { localPathOn } from '../registry/locations.js';
import type { Registry } from '../registry/registry.js';
import type { ModelMetadata } from '../registry/schema.js';
import type { ModelLocation } from './backends/backend.js';

export interface ResolvedModel extends ModelLocation {
  /** Stable identity of the model: its registry id, else its absolute path. */
  key: string;
  /** Where the name was found. */
  via: 'registry' | 'path' | 'hf-cache' | 'model-root' | 'pulled';
}

/** A model a pull put on disk: what to load, and its registry entry when it has one. */
export interface PulledModel {
  path: string;
  model?: ModelMetadata;
}

export interface ResolveOptions {
  registry?: Registry;
  /** Hugging Face hub cache folder. */
  hubCache?: string;
  /** Folders searched for `<root>/<name>`. */
  modelRoots?: readonly string[];
  /** Downloads a hub id (`org/name[:variant]`) found nowhere on disk; without it nothing is pulled. */
  pull?: (name: string) => Promise<PulledModel>;
  /** This host, whose copy of a registered model is loaded. Defaults to `MM_HOST_ID`, else the hostname. */
  hostId?: string;
}

/** File extensions of weights, by format. */
const WEIGHT_FORMATS: Record<string, string> = {
  '.gguf': 'gguf',
  '.onnx': 'onnx',
  '.safetensors': 'safetensors',
  '.bin': 'pytorch',
  '.pt': 'pytorch',
  '.ggml': 'ggml',
};

/** Resolves `name` to a model on disk. @throws MODEL_NOT_FOUND with the places searched. */
export async function resolveModel(name: string, { registry, hubCache, modelRoots = [], pull, hostId = processConfig().hostId }: ResolveOptions = {}): Promise<ResolvedModel> {
  const trimmed = name.trim();
  if (trimmed === '') throw new ModelManagerError('INVALID_ARGUMENT', 'modelName is empty: give a registry id, a Hugging Face id or a model path');
  const searched: string[] = [];

  const registered = registry ? await registry.getModel(trimmed) : undefined;
  if (registered) {
    const localPath = localPathOn(registered, hostId);
    if (!localPath) {
      const fromHub = await hubModel(registered.modelId, hubCache, pull, registered);
      if (fromHub) return fromHub;
      throw new ModelManagerError('MODEL_NOT_FOUND', `model "${trimmed}" is registered but has no localPath: pull it (mm pull ${registered.modelId}) or set localPath (mm update)`, {
        details: { modelName: trimmed },
      });
    }
    if (!(await exists(localPath))) {
      throw new ModelManagerError('MODEL_NOT_FOUND', `model "${trimmed}" is registered at ${localPath}, but nothing is there: restore the files or run \`mm scan\``, {
        details: { modelName: trimmed, path: localPath },
      });
    }
    return located(localPath, 'registry', registered.modelId, registered);
  }

  const asPath = resolve(trimmed === '~' || trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(1)) : trimmed);
  searched.push(asPath);
  if (await exists(asPath)) return located(asPath, 'path', asPath, await registeredAt(registry, asPath));

  const hubId = /^[\w.-]+\/[\w.-]+(:[\w.-]+)?$/.test(trimmed) ? parseHubName(trimmed) : undefined;
  if (hubCache && hubId) {
    searched.push(join(hubCache, cacheFolderName(hubId.repoId)));
    const cached = cachedModelPath(trimmed, hubCache);
    if (cached) return located(cached, 'hf-cache', trimmed, await registeredAt(registry, cached));
  }

  for (const root of modelRoots) {
    const candidate = resolve(root, trimmed);
    searched.push(candidate);
    if (await exists(candidate)) return located(candidate, 'model-root', candidate, await registeredAt(registry, candidate));
  }

  if (hubId && pull) {
    const pulled = await pull(trimmed);
    return located(pulled.path, 'pulled', pulled.model?.modelId ?? trimmed, pulled.model);
  }

  throw new ModelManagerError(
    'MODEL_NOT_FOUND',
    `model "${trimmed}" not found: give a registry id (mm list), a model folder or file, or put it under ./models`,
    { details: { modelName: trimmed, searched } },
  );
}

/** The weights format of a file or folder, from file extensions. */
export async function detectFormat(path: string): Promise<string | undefined> {
  const info = await stat(path);
  if (info.isFile()) return WEIGHT_FORMATS[extname(path).toLowerCase()];
  const seen = new Set<string>();
  for (const dir of [path, join(path, 'onnx')]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      const format = WEIGHT_FORMATS[extname(n).toLowerCase()];
      if (format) seen.add(format);
    }
  }
  // A folder can hold several exports; prefer the ones a built-in backend runs.
  return ['gguf', 'onnx', 'safetensors', 'pytorch', 'ggml'].find((f) => seen.has(f));
}

/** Bytes of the weight files at `path` (a file, or every weight file in a folder). */
export async function weightBytes(path: string): Promise<number> {
  const info = await stat(path);
  if (info.isFile()) return info.size;
  let total = 0;
  for (const dir of [path, join(path, 'onnx')]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      if (!WEIGHT_FORMATS[extname(n).toLowerCase()] && !n.endsWith('.onnx_data')) continue;
      const s = await stat(join(dir, n)).catch(() => undefined);
      if (s?.isFile()) total += s.size;
    }
  }
  return total;
}

/** A hub model from the cache, else pulled (when pulling is on); undefined when neither has it. */
async function hubModel(name: string, hubCache: string | undefined, pull: ResolveOptions['pull'], model: ModelMetadata): Promise<ResolvedModel | undefined> {
  const cached = hubCache === undefined ? undefined : cachedModelPath(name, hubCache);
  if (cached) return located(cached, 'hf-cache', model.modelId, model);
  if (!pull || !parseHubName(name)) return undefined;
  const pulled = await pull(name);
  return located(pulled.path, 'pulled', model.modelId, pulled.model ?? model);
}

async function located(path: string, via: ResolvedModel['via'], fallbackKey: string, model?: ModelMetadata): Promise<ResolvedModel> {
  // One model is one key however it was named, so a registered model is never loaded twice.
  const key = model?.modelId ?? fallbackKey;
  // A folder with several exports (sentence-transformers ships model.safetensors beside onnx/) runs
  // from the one a built-in backend runs, though the registry records the main weights' format.
  const registered = model?.format;
  const onDisk = registered === 'gguf' || registered === 'onnx' ? undefined : await detectFormat(path);
  const format = onDisk === 'gguf' || onDisk === 'onnx' ? onDisk : (registered ?? onDisk);
  return { key, via, path, ...(format ? { format } : {}), ...(model ? { model } : {}) };
}

/** The registered model whose localPath is `path` (an indexed lookup), so measurements of path-loaded models still reach the registry. */
async function registeredAt(registry: Registry | undefined, path: string): Promise<ModelMetadata | undefined> {
  if (!registry) return undefined;
  return (await registry.listModels({ localPath: path, limit: 1 }))[0];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
