/**
 * What the commands share: opening the registry the global options point at, and the runtime
 * settings of the commands that run models.
 */
import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import { Registry } from '../registry/index.js';
import { loadSettings, type LoadedSettings, type LoadSettingsOptions } from '../settings/index.js';
import type { GlobalOptions } from './program.js';

/** Opens the registry the global options point at. */
export async function openRegistry(options: GlobalOptions): Promise<Registry> {
  return Registry.open({ store: options.store, db: options.db });
}

/** The options of the commands that run models: which settings file, and settings given one by one. */
export interface SettingsOptions {
  settings?: string;
  set?: string[];
}

/** Adds the runtime settings options (--settings, --set) to a command that runs models. */
export function withSettingsOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(command: Command<A, O, G>) {
  return command
    .option('--settings <file>', 'runtime settings and configured models, YAML or JSON [MM_SETTINGS, else MM_HOME/settings.yaml]')
    // Repeatable, and never split on commas: a value may hold one.
    .addOption(new Option('--set <key=value>', 'one setting over the file and the environment (repeatable), e.g. --set models.embedding.device=cpu')
      .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]));
}

/**
 * The settings the options point at (--settings, --set) over the file and the environment, with
 * the settings a command's own flags gave (`flags`).
 * @throws INVALID_CONFIG naming the setting and where it was written
 */
export async function settingsOf(options: SettingsOptions, flags?: LoadSettingsOptions['flags']): Promise<LoadedSettings> {
  return loadSettings({ ...(options.settings === undefined ? {} : { file: options.settings }), set: options.set ?? [], ...(flags ? { flags } : {}) });
}

/** Runs `fn` with an open registry, closing it afterwards. */
export async function withRegistry<T>(options: GlobalOptions, fn: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = await openRegistry(options);
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}
