import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unprivileged } from '../helpers/unprivileged.js';

const MM = fileURLToPath(new URL('../../../bin/mm.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json: unknown;
}

/**
 * Runs `mm --json --db <base>/registry.db ...args` with MM_HOME and every default store
 * pointed inside `base`, so a test never scans the machine's real models.
 */
export function mm(base: string, ...args: string[]): CliResult {
  return mmWithEnv(base, {}, ...args);
}

/** Like `mm`, run as a user who cannot read a folder of mode 000 (see test/helpers/unprivileged.ts). */
export function mmUnprivileged(base: string, ...args: string[]): CliResult {
  return run(base, {}, unprivileged([process.execPath, MM]), args);
}

/** Like `mm`, with some environment variables set (e.g. OLLAMA_MODELS pointing at a test store). */
export function mmWithEnv(base: string, extra: Record<string, string>, ...args: string[]): CliResult {
  return run(base, extra, [process.execPath, MM], args);
}

function run(base: string, extra: Record<string, string>, [command, ...prefix]: string[], args: string[]): CliResult {
  const env = {
    ...process.env,
    MM_HOME: join(base, 'home'),
    HF_HOME: join(base, 'no-hf'),
    HF_HUB_CACHE: join(base, 'no-hf', 'hub'),
    OLLAMA_MODELS: join(base, 'no-ollama'),
    LMSTUDIO_MODELS: join(base, 'no-lmstudio'),
    HF_HUB_OFFLINE: '1',
    ...extra,
  };
  const r = spawnSync(command!, [...prefix, '--json', '--db', join(base, 'registry.db'), ...args], { env, encoding: 'utf8', cwd: base });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}
