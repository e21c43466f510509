/**
 * Add throughput of several writer processes on one registry: each adds models one at a time
 * (a transaction each); all start together once every one is ready; adds per second over the wall time.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const WRITER = fileURLToPath(new URL('./registry-writer.js', import.meta.url));

/** The child's next line on stdout; rejects when it exits first. */
function nextLine(child: ChildProcessByStdio<Writable, Readable, null>, lines: Interface): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`a writer exited (${code}) early`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      resolve(line);
    });
  });
}

/** Adds per second of `writers` processes adding `perWriter` models each, ids from `first` on. */
export async function addThroughput(kind: string, db: string, writers: number, perWriter: number, first: number): Promise<number> {
  const children = Array.from({ length: writers }, (_, w) =>
    spawn(process.execPath, [WRITER, kind, db, String(first + w * perWriter), String(perWriter)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = children.map((c) => createInterface({ input: c.stdout }));
  try {
    await Promise.all(children.map((c, i) => nextLine(c, lines[i]!)));
    const done = Promise.all(children.map((c, i) => nextLine(c, lines[i]!)));
    const start = performance.now();
    for (const c of children) c.stdin.end('go\n');
    await done;
    return (writers * perWriter) / ((performance.now() - start) / 1000);
  } finally {
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((resolve) => c.once('exit', resolve)))));
  }
}
