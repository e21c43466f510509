/**
 * Shared plumbing of the commands: option parsing and opening the registry.
 */
import type { Command } from 'commander';
import { parseStoreKind } from '../config.js';
import { Registry } from '../registry/index.js';
import { loadSettings, type LoadedSettings, type LoadSettingsOptions } from '../settings/index.js';
import { parseQuantity } from '../units.js';
import { reportError, type GlobalOptions } from './output.js';

/** Options of the command plus the program's global ones (--json, --store, --db). */
export function optionsOf<T extends object>(command: Command): T & GlobalOptions {
  return command.optsWithGlobals() as T & GlobalOptions;
}

/** Opens the registry the global options point at. */
export async function openRegistry(options: GlobalOptions): Promise<Registry> {
  return Registry.open({ store: options.store ? parseStoreKind(options.store) : undefined, db: options.db });
}

/** The options of the commands that run models: which settings file, and settings given one by one. */
export interface SettingsOptions {
  settings?: string;
  set?: string[];
}

/** Adds the runtime settings options (--settings, --set) to a command that runs models. */
export function withSettingsOptions(command: Command): Command {
  return command
    .option('--settings <file>', 'runtime settings and configured models, YAML or JSON [MM_SETTINGS, else MM_HOME/settings.yaml]')
    .option('--set <key=value>', 'one setting over the file and the environment (repeatable), e.g. --set models.embedding.device=cpu', (value: string, previous: string[] = []) => [...previous, value]);
}

/**
 * The settings the options point at (--settings, --set) over the file and the environment, with
 * the settings a command's own flags gave (`flags`).
 * @throws INVALID_CONFIG naming the setting and where it was written
 */
export async function settingsOf(options: SettingsOptions, flags?: LoadSettingsOptions['flags']): Promise<LoadedSettings> {
  return loadSettings({ ...(options.settings === undefined ? {} : { file: options.settings }), set: options.set ?? [], ...(flags ? { flags } : {}) });
}

/**
 * Wraps a command's action: failures become one line on stderr and a non-zero exit;
 * the registry (when asked for) is opened once and always closed.
 */
export function action<A extends unknown[]>(run: (command: Command, ...args: A) => Promise<void>) {
  return async (...raw: unknown[]): Promise<void> => {
    const command = raw[raw.length - 1] as Command;
    const args = raw.slice(0, -2) as A;
    try {
      await run(command, ...args);
    } catch (error) {
      reportError(error, optionsOf(command).json);
    }
  };
}

/** Runs `fn` with an open registry, closing it afterwards. */
export async function withRegistry<T>(command: Command, fn: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = await openRegistry(optionsOf(command));
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

/** Collects a repeatable option; commas also separate values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

/** A commander parser for numbers with suffixes (7B, 16GB). */
export function quantity(what: string) {
  return (value: string) => parseQuantity(value, what);
}
