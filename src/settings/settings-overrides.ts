/**
 * Settings given as text, outside the file: environment variables `MM_<PATH>`
 * (`MM_GPU_MEMORY_FRACTION=0.8`, `MM_MODELS_EMBEDDING_DEVICE=cpu`) and `--set key=value` flags.
 * A value is kept as text when the setting takes text, else read as a YAML scalar (0.8, true, -1).
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ModelManagerError } from '../errors.js';
import { GLOBAL_SETTINGS, MODEL_SETTING_KEYS, modelSettingsSchema } from './schema.js';
import { settingPath, type SettingOrigin, type SettingsTree } from './settings-tree.js';

/** The environment variable of a setting path: `sharing.maxSharedModels` is `MM_SHARING_MAX_SHARED_MODELS`. */
export function envName(path: readonly string[]): string {
  return `MM_${path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase()}`;
}

const GLOBAL_BY_ENV = new Map([...GLOBAL_SETTINGS.keys()].map((dotted) => [envName(dotted.split('.')), dotted.split('.')]));
/** A configured model's fields as they end an environment variable, longest first (`MAX_INPUT_LENGTH` before `LENGTH`). */
const MODEL_FIELDS_BY_ENV = MODEL_SETTING_KEYS.map((key) => [envName([key]).slice('MM_'.length), key] as const).sort((a, b) => b[0].length - a[0].length);

/** The schema of the value at a setting path, when the path is a known setting. */
function valueSchema(path: readonly string[]): z.ZodType | undefined {
  if (path[0] === 'models' && path.length === 3) return modelSettingsSchema.shape[path[2] as keyof typeof modelSettingsSchema.shape];
  return GLOBAL_SETTINGS.get(path.join('.'));
}

/** `raw` as the setting wants it: text it accepts as text stays text; otherwise a YAML scalar (numbers, true/false). */
function typed(path: readonly string[], raw: string): unknown {
  const schema = valueSchema(path);
  if (schema?.safeParse(raw).success) return raw;
  try {
    return parseYaml(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Writes the `MM_<PATH>` variables of `env` into `tree`. A variable that names no setting is left
 * alone (MM_HOME and the others are not settings), except under `MM_MODELS_`, which is all ours.
 * A model's name is matched to a configured one whatever its case, else taken in lower case.
 * @throws INVALID_CONFIG for an `MM_MODELS_` variable that names no model setting
 */
export function applyEnvSettings(tree: SettingsTree, env: NodeJS.ProcessEnv): void {
  const configured = Object.keys((tree.values.models as Record<string, unknown> | undefined) ?? {});
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || raw === '' || !name.startsWith('MM_')) continue;
    let path = GLOBAL_BY_ENV.get(name);
    if (!path && name.startsWith('MM_MODELS_')) {
      const rest = name.slice('MM_MODELS_'.length);
      const field = MODEL_FIELDS_BY_ENV.find(([suffix]) => rest.endsWith(`_${suffix}`) && rest.length > suffix.length + 1);
      if (!field) {
        throw new ModelManagerError('INVALID_CONFIG', `${name}: not a model setting; write MM_MODELS_<NAME>_<SETTING> with SETTING one of ${MODEL_FIELDS_BY_ENV.map(([s]) => s).sort().join(', ')}`, {
          details: { variable: name },
        });
      }
      const upper = rest.slice(0, -(field[0].length + 1));
      const model = configured.find((m) => m.toUpperCase() === upper) ?? upper.toLowerCase();
      path = ['models', model, field[1]];
    }
    if (path) tree.set(path, typed(path, raw), { source: 'env', name });
  }
}

/**
 * Writes `key=value` settings (the `--set` flag; the key dotted, in either spelling) into `tree`.
 * @throws INVALID_CONFIG for an entry without `=`
 */
export function applyFlagSettings(tree: SettingsTree, entries: readonly string[], flag = '--set'): void {
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ModelManagerError('INVALID_CONFIG', `${flag} "${entry}": write key=value, e.g. ${flag} models.embedding.device=cpu`, { details: { entry } });
    const path = settingPath(entry.slice(0, eq).trim());
    tree.set(path, typed(path, entry.slice(eq + 1)), { source: 'flag', name: `${flag} ${entry.slice(0, eq).trim()}` });
  }
}

/** Writes settings a command's own flags gave (`mm serve --max-loaded 2`) into `tree`; undefined values are left out. */
export function applyFlagValues(tree: SettingsTree, values: Readonly<Record<string, { flag: string; value: unknown }>>): void {
  for (const [dotted, { flag, value }] of Object.entries(values)) {
    if (value !== undefined) tree.set(settingPath(dotted), value, { source: 'flag', name: flag } satisfies SettingOrigin);
  }
}
