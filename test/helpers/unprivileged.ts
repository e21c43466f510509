/**
 * Running a check as a user who cannot read everything: root reads a folder of mode 000, so a
 * test about unreadable folders runs its command as `nobody` (through util-linux's setpriv) when
 * the tests run as root, as CI does, and as the current user otherwise.
 */
import { chownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** nobody/nogroup on Debian. */
const NOBODY = 65534;

export const RUNNING_AS_ROOT = process.getuid?.() === 0;

/** The command line that runs `argv` without root's power: through setpriv as nobody when root, else as it is. */
export function unprivileged(argv: readonly string[]): string[] {
  return RUNNING_AS_ROOT ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : [...argv];
}

/** Gives `path` and everything below it to the user `unprivileged` runs as, so it can write there. */
export function handOver(path: string): void {
  if (!RUNNING_AS_ROOT) return;
  chownSync(path, NOBODY, NOBODY);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) handOver(child);
    else chownSync(child, NOBODY, NOBODY);
  }
}
