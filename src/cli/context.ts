/**
 * What the commands share: opening the registry the global options point at.
 */
import { Registry } from '../registry/index.js';
import type { GlobalOptions } from './program.js';

/** Opens the registry the global options point at. */
export async function openRegistry(options: GlobalOptions): Promise<Registry> {
  return Registry.open({ store: options.store, db: options.db });
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
