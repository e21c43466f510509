/**
 * Plugins named in `model_discovery.json` (`"plugins": ["./plugins/custom.js"]`): ES modules
 * whose default export is a plugin, or a class of one (made with `new`, no arguments). A plugin
 * that cannot be loaded stops Discovery.create(), as a bad settings file does.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelManagerError, type ErrorCode } from '../../errors.js';
import type { DiscoveryPlugin } from './plugin.js';

const METHODS = ['canHandle', 'extractMetadata', 'detectModalities'] as const;

/**
 * `candidate` as a plugin. @throws `code` (INVALID_CONFIG for a plugin module, INVALID_ARGUMENT for
 * one registered in code) naming what is missing
 */
export function checkPlugin(candidate: unknown, where: string, code: ErrorCode = 'INVALID_ARGUMENT'): DiscoveryPlugin {
  const plugin = candidate as Partial<Record<string, unknown>> | null | undefined;
  const missing = [
    ...(typeof plugin?.name === 'string' && plugin.name !== '' ? [] : ['name (a string)']),
    ...METHODS.filter((m) => typeof plugin?.[m] !== 'function').map((m) => `${m}()`),
  ];
  if (plugin === null || typeof plugin !== 'object' || missing.length > 0) {
    throw new ModelManagerError(code, `${where} is not a discovery plugin: it lacks ${missing.join(', ')}`, { details: { plugin: where, missing } });
  }
  return plugin as unknown as DiscoveryPlugin;
}

/** Loads the plugin modules at `paths` (relative ones from `baseDir`, the settings file's folder). @throws INVALID_CONFIG naming the module */
export async function loadPlugins(paths: readonly string[], baseDir: string): Promise<DiscoveryPlugin[]> {
  const plugins: DiscoveryPlugin[] = [];
  for (const path of paths) {
    const file = isAbsolute(path) ? path : resolve(baseDir, path);
    let module: { default?: unknown };
    try {
      module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (error) {
      throw new ModelManagerError('INVALID_CONFIG', `discovery plugin ${file} cannot be loaded: ${(error as Error).message}`, { details: { plugin: file }, cause: error });
    }
    const exported = module.default;
    let candidate = exported;
    if (typeof exported === 'function') {
      try {
        candidate = new (exported as new () => unknown)();
      } catch (error) {
        throw new ModelManagerError('INVALID_CONFIG', `discovery plugin ${file}: its default export could not be made with \`new\`: ${(error as Error).message}`, { details: { plugin: file }, cause: error });
      }
    }
    plugins.push(checkPlugin(candidate, `the default export of ${file}`, 'INVALID_CONFIG'));
  }
  return plugins;
}
