/**
 * Imports a backend's engine package on first use, so Model Manager starts (and serves other
 * formats) without it, and its absence becomes BACKEND_MISSING instead of a crash at startup.
 */
import { ModelManagerError } from '../../errors.js';

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * `import(specifier)`, with a missing package reported as BACKEND_MISSING naming what to install.
 * Other import failures (a broken native binary) are BACKEND_MISSING too, with the cause kept.
 */
export async function importBackendPackage<T>(specifier: string, backend: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const missing = isModuleNotFound(error);
    const message = missing
      ? `the ${backend} backend needs the package "${specifier}", which is not installed: run \`npm install ${specifier}\``
      : `the ${backend} backend could not load "${specifier}": ${error instanceof Error ? error.message : String(error)}; reinstall it`;
    throw new ModelManagerError('BACKEND_MISSING', message, { cause: error, details: { backend, package: specifier } });
  }
}
