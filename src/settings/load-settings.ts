/**
 * The effective settings: defaults, then the settings file, then `MM_<PATH>` environment
 * variables, then flags, checked together by one schema. A refused value is one error naming
 * the setting and where it was written (file and line, variable or flag); nothing half-read is
 * ever used.
 */
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { loadConfig } from '../config.js';
import { ModelManagerError } from '../errors.js';
import { settingsSchema, type Settings } from './schema.js';
import { readSettingsFile } from './settings-file.js';
import { applyEnvSettings, applyFlagSettings, applyFlagValues } from './settings-overrides.js';
import { describeOrigin, SettingsTree, type SettingOrigin } from './settings-tree.js';

export interface LoadSettingsOptions {
  /** The settings file. Defaults to `MM_SETTINGS`, else `$MM_HOME/settings.yaml` (which may be absent). */
  file?: string;
  /** Environment read for `MM_<PATH>` overrides. Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** `key=value` entries of the `--set` flag. Defaults to none. */
  set?: readonly string[];
  /** Settings a command's own flags gave, by dotted path, with the flag's name. Defaults to none. */
  flags?: Readonly<Record<string, { flag: string; value: unknown }>>;
}

/** One setting as `mm config show` lists it. */
export interface SettingEntry {
  /** Dotted path, camelCase (`models.embedding.localPath`). */
  key: string;
  value: unknown;
  origin: SettingOrigin;
}

/** Settings once checked, with where each value came from. */
export interface LoadedSettings {
  values: Settings;
  /** The settings file read; undefined when there was none. */
  file: string | undefined;
  /** Every setting (defaults included), in the schema's order. */
  entries: SettingEntry[];
}

/**
 * Reads and checks the settings.
 * @throws INVALID_CONFIG naming the setting and its line / variable / flag; FILE_NOT_FOUND for a `file` that is not there
 */
export async function loadSettings({ file, env = process.env, set = [], flags = {} }: LoadSettingsOptions = {}): Promise<LoadedSettings> {
  const tree = new SettingsTree();
  const path = file ?? loadConfig(env).settingsFile;
  const read = await readSettingsFile(path, tree, { optional: file === undefined });
  applyEnvSettings(tree, env);
  applyFlagSettings(tree, set);
  applyFlagValues(tree, flags);

  const parsed = settingsSchema.safeParse(tree.values);
  if (!parsed.success) throw refused(parsed.error.issues, tree);
  const values = parsed.data;
  relativeToFile(values, tree);
  return { values, file: read ? path : undefined, entries: entriesOf(values, tree) };
}

function refused(issues: readonly z.core.$ZodIssue[], tree: SettingsTree): ModelManagerError {
  const described = issues.map((issue) => {
    // An unknown key is reported where it is written, under its own name.
    const path = issue.code === 'unrecognized_keys' ? [...issue.path.map(String), issue.keys[0]!] : issue.path.map(String);
    const origin = tree.originOf(path);
    const key = path.join('.') || '(settings)';
    const reason = issue.code === 'unrecognized_keys'
      ? `unknown setting${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''} (check the spelling; see \`mm config show\` for every setting)`
      : issue.message;
    return { key, reason, at: describeOrigin(origin), origin };
  });
  const message = described.map((d) => `${d.at === 'default' ? '' : `${d.at}: `}${d.key}: ${d.reason}`).join('; ');
  return new ModelManagerError('INVALID_CONFIG', `invalid settings: ${message}`, { details: { issues: described } });
}

/** Paths written in the settings file are read relative to its folder (those from the environment or flags, to the working folder). */
function relativeToFile(values: Settings, tree: SettingsTree): void {
  const fromFile = <T>(path: string[], value: T): T | string => {
    const origin = tree.originOf(path);
    return typeof value === 'string' && origin.source === 'file' ? resolve(dirname(origin.file), value) : value;
  };
  values.embeddingCache.persistToDisk = fromFile(['embeddingCache', 'persistToDisk'], values.embeddingCache.persistToDisk);
  for (const [name, model] of Object.entries(values.models)) {
    if (model.localPath !== undefined) model.localPath = fromFile(['models', name, 'localPath'], model.localPath);
  }
}

function entriesOf(values: Settings, tree: SettingsTree): SettingEntry[] {
  const out: SettingEntry[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key]);
    } else if (value !== undefined) {
      out.push({ key: path.join('.'), value, origin: tree.isSet(path) ? tree.originOf(path) : { source: 'default' } });
    }
  };
  walk(values, []);
  return out;
}
