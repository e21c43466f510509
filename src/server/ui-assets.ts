/**
 * Finds the web UI's folder. tsc does not copy non-TypeScript files, so the UI is served from
 * the source folder: beside this module when it runs from src (or a copy placed in dist), and
 * from `<package>/src/server/ui` when it runs from `dist/src/server` (repo or installed package).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelManagerError } from '../errors.js';

const CANDIDATES = ['./ui/', '../../../src/server/ui/'];

/** The absolute path of the folder holding index.html. @throws FILE_NOT_FOUND when none is there. */
export function uiRoot(): string {
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${path}index.html`)) return path;
  }
  throw new ModelManagerError('FILE_NOT_FOUND', 'the web UI files are missing (src/server/ui); reinstall the package', {
    details: { searched: CANDIDATES },
  });
}
