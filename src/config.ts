/**
 * Environment variables and defaults, parsed in one place.
 *
 * Library code takes these as option defaults; `loadConfig(env)` lets tests and embedders
 * build a config from any environment without touching `process.env`.
 */
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { ModelManagerError } from './errors.js';

export const STORE_KINDS = ['sqlite', 'json', 'duckdb', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/**
 * Which llama.cpp GPU build to use: `auto` tries each installed prebuilt (cuda, then vulkan, then
 * metal) and keeps the first that computes; a kind names one; `cpu` uses no GPU.
 */
export const LLAMA_GPU_SETTINGS = ['auto', 'cuda', 'vulkan', 'metal', 'cpu'] as const;
export type LlamaGpuSetting = (typeof LLAMA_GPU_SETTINGS)[number];

export interface Config {
  /** Data folder of Model Manager. `MM_HOME`; defaults to the platform data dir (e.g. ~/.local/share/model-manager). */
  home: string;
  /** Registry store kind. `MM_STORE`; defaults to `postgres` when `MM_DB` is a `postgres://` URL, else `sqlite`. */
  store: StoreKind;
  /**
   * Registry file, or for `postgres` a `postgres://` URL. `MM_DB`; defaults to `registry.db` / `registry.json` /
   * `registry.duckdb` under `home`, and for `postgres` to `postgres://` (the server the `PG*` variables name).
   */
  db: string;
  /** This machine's stable id in a registry shared by several hosts. `MM_HOST_ID`; defaults to the hostname. */
  hostId: string;
  /** Hugging Face settings, as huggingface_hub reads them. */
  hf: {
    /** `HF_HOME`; defaults to ~/.cache/huggingface. */
    home: string;
    /** `HF_HUB_CACHE`, else `HF_HOME/hub`. */
    hubCache: string;
    /** `HF_ENDPOINT`; defaults to https://huggingface.co. */
    endpoint: string;
    /** `HF_TOKEN` (or `HUGGING_FACE_HUB_TOKEN`). */
    token: string | undefined;
    /** `HF_HUB_OFFLINE=1`: never touch the network. */
    offline: boolean;
  };
  /** Pull a hub id that is not on disk on first use (`task()`, `mm embed`, the HTTP API). `MM_AUTO_PULL`; defaults to on, off when HF_HUB_OFFLINE is set. */
  autoPull: boolean;
  /** Ollama store: `OLLAMA_MODELS`, else ~/.ollama/models. */
  ollamaModels: string;
  /** LM Studio store: `LMSTUDIO_MODELS`, else ~/.lmstudio/models. */
  lmStudioModels: string;
  /** The settings file (runtime settings and configured models). `MM_SETTINGS`; defaults to `settings.yaml` under `home`. */
  settingsFile: string;
  /** llama.cpp GPU kind. `MM_LLAMA_GPU`; defaults to `auto`. */
  llamaGpu: LlamaGpuSetting;
}

const TRUE_VALUES = new Set(['1', 'true', 'yes', 'on']);

/** Reads `1/true/yes/on` (any case) as true. */
export function parseBool(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.trim().toLowerCase());
}

/** The file name a store kind uses inside MM_HOME. */
export function defaultDbFile(store: Exclude<StoreKind, 'postgres'>): string {
  return { sqlite: 'registry.db', json: 'registry.json', duckdb: 'registry.duckdb' }[store];
}

/** Where a store kind lives when `--db` names nothing: its file in `home`, or the server the `PG*` variables name. */
export function defaultDb(store: StoreKind, home: string): string {
  return store === 'postgres' ? 'postgres://' : join(home, defaultDbFile(store));
}

/** True for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db.trim());
}

/** The store kind asked for, else `postgres` for a `postgres://` db, else the fallback. */
export function storeKindOf(store: string | undefined, db: string | undefined, fallback: StoreKind = 'sqlite'): StoreKind {
  if (store) return parseStoreKind(store);
  return db && isPostgresUrl(db) ? 'postgres' : fallback;
}

/** Parses a store kind, with an error that lists the valid ones. */
export function parseStoreKind(value: string): StoreKind {
  const kind = value.trim().toLowerCase();
  if ((STORE_KINDS as readonly string[]).includes(kind)) return kind as StoreKind;
  throw new ModelManagerError('INVALID_CONFIG', `unknown store "${value}": use one of ${STORE_KINDS.join(', ')}`, {
    details: { store: value, valid: STORE_KINDS },
  });
}

/** Parses a llama.cpp GPU setting, with an error that lists the valid ones. */
export function parseLlamaGpu(value: string): LlamaGpuSetting {
  const kind = value.trim().toLowerCase();
  if ((LLAMA_GPU_SETTINGS as readonly string[]).includes(kind)) return kind as LlamaGpuSetting;
  throw new ModelManagerError('INVALID_CONFIG', `unknown llama.cpp GPU kind "${value}": use one of ${LLAMA_GPU_SETTINGS.join(', ')}`, {
    details: { llamaGpu: value, valid: LLAMA_GPU_SETTINGS },
  });
}

/** Builds the configuration from an environment (defaults to `process.env`). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const home = env.MM_HOME || envPaths('model-manager', { suffix: '' }).data;
  const store = storeKindOf(env.MM_STORE, env.MM_DB);
  const hfHome = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
  return {
    home,
    store,
    db: env.MM_DB || defaultDb(store, home),
    hostId: env.MM_HOST_ID?.trim() || hostname(),
    hf: {
      home: hfHome,
      hubCache: env.HF_HUB_CACHE || join(hfHome, 'hub'),
      endpoint: (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, ''),
      token: env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined,
      offline: parseBool(env.HF_HUB_OFFLINE),
    },
    autoPull: !parseBool(env.HF_HUB_OFFLINE) && (env.MM_AUTO_PULL === undefined || env.MM_AUTO_PULL.trim() === '' || parseBool(env.MM_AUTO_PULL)),
    ollamaModels: env.OLLAMA_MODELS || join(homedir(), '.ollama', 'models'),
    lmStudioModels: env.LMSTUDIO_MODELS || join(homedir(), '.lmstudio', 'models'),
    settingsFile: env.MM_SETTINGS || join(home, 'settings.yaml'),
    llamaGpu: parseLlamaGpu(env.MM_LLAMA_GPU || 'auto'),
  };
}

let cached: Config | undefined;

/** The process-wide configuration, read from `process.env` on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
