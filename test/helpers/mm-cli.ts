/**
 * Runs the built `mm` in a child process, as a user's shell would, for the tests of commands.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/mm.js', import.meta.url));

/** What a run of `mm` gave: its exit code (null when a signal ended it) and its output. */
export interface MmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface MmRunOptions {
  /** Killed after this long (default 120 s). */
  timeoutMs?: number;
  /** Close the pipe of stdout at once, as `mm ... | head -0` would. */
  closeStdout?: boolean;
}

/**
 * Runs `mm args...` with exactly `env` (pass `{ ...process.env, ... }` to inherit), never rejecting on a
 * failing exit: the test asserts the code and the output.
 */
export function runMm(args: readonly string[], env: NodeJS.ProcessEnv, { timeoutMs = 120_000, closeStdout = false }: MmRunOptions = {}): Promise<MmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `mm serve` running in a child process. */
export interface MmServer {
  url: string;
  child: ChildProcess;
}

/** Starts `mm --json serve args...` with exactly `env` and returns its URL once it listens (rejects, with its stderr, if it exits first). */
export async function startMmServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<MmServer> {
  const child = spawn(process.execPath, [BIN, '--json', 'serve', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let json = '';
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      json += line;
      try {
        resolve((JSON.parse(json) as { url: string }).url);
      } catch {
        // the document spans several lines; keep reading
      }
    });
    child.once('exit', (code) => reject(new Error(`mm serve exited ${code}: ${stderr}`)));
  });
  return { url, child };
}
