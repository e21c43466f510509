/**
 * Every file Model Manager replaces (exports, the JSON registry, API keys, the scan index, the
 * embedding cache) is written to a temp file that is fsynced before it is renamed over the old
 * one, and the folder is fsynced after: seen in the system calls of the real commands (strace).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const MM = fileURLToPath(new URL('../../bin/mm.js', import.meta.url));
const UNDER_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const STRACE_WORKS = spawnSync('strace', ['-o', '/dev/null', 'true']).status === 0;
// CI installs strace (.ci/run): there its absence is a failure, not a skip.
const skip = STRACE_WORKS || UNDER_CI ? false : 'strace is missing or cannot trace here (apt-get install strace)';

/** Runs `argv` under strace; returns the trace of fsync and rename calls, paths shown (-y). */
function traced(base: string, argv: string[], { cwd = base }: { cwd?: string } = {}): string {
  const log = join(base, `strace-${Math.random().toString(36).slice(2)}.log`);
  const run = spawnSync('strace', ['-f', '-y', '-qq', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', log, ...argv], {
    env: { ...process.env, MM_HOME: join(base, 'home'), MM_DB: '', MM_STORE: '', HF_HUB_OFFLINE: '1' }, encoding: 'utf8', cwd,
  });
  assert.equal(run.status, 0, `${argv.join(' ')}: ${run.stderr}`);
  return readFileSync(log, 'utf8');
}

/** Asserts the trace replaced `target` durably: temp file fsynced, renamed over it, folder fsynced. */
function assertDurable(trace: string, target: string): void {
  const lines = trace.split('\n');
  const renamed = lines.findIndex((l) => /\brename(at2?)?\(/.test(l) && [...l.matchAll(/"([^"]+)"/g)].map((m) => m[1]).at(-1) === target);
  assert.ok(renamed >= 0, `${target} was replaced by a rename:\n${trace}`);
  const temp = /"([^"]+)"/.exec(lines[renamed]!)![1]!;
  assert.equal(dirname(temp), dirname(target), 'the temp file lies beside the file (same file system)');
  assert.ok(basename(temp).startsWith(`.${basename(target)}.`), `temp file ${temp}`);
  const syncs = (from: number, to: number, path: string) => lines.slice(from, to).some((l) => new RegExp(`\\bf(data)?sync\\(\\d+<${escape(path)}>`).test(l));
  assert.ok(syncs(0, renamed, temp), `the temp file is fsynced before the rename:\n${trace}`);
  assert.ok(syncs(renamed + 1, lines.length, dirname(target)), `the folder is fsynced after the rename:\n${trace}`);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('every file Model Manager replaces is written durably: temp file fsynced, renamed, folder fsynced', { skip }, () => {
  it('mm export', () => {
    using base = tempDir();
    const out = join(base.path, 'models.yaml');
    assertDurable(traced(base.path, [process.execPath, MM, 'export', out]), out);
  });

  it('the JSON registry', () => {
    using base = tempDir();
    const file = join(base.path, 'models.json');
    writeFileSync(file, JSON.stringify([{ modelId: 'org/model', modelType: 'decoder_only' }]));
    const registry = join(base.path, 'registry.json');
    assertDurable(traced(base.path, [process.execPath, MM, '--store', 'json', '--db', registry, 'add', file]), registry);
  });

  it('the API keys file', () => {
    using base = tempDir();
    const keys = join(base.path, 'keys.json');
    assertDurable(traced(base.path, [process.execPath, MM, 'serve', 'keys', 'add', 'ada', '--keys-file', keys]), keys);
    assert.equal(statSync(keys).mode & 0o777, 0o600);
  });

  it('the scan index', () => {
    using base = tempDir();
    mkdirSync(join(base.path, 'models'));
    const trace = traced(base.path, [process.execPath, MM, 'scan', join(base.path, 'models')]);
    const stateDir = join(base.path, 'home', 'discovery');
    const index = readdirSync(stateDir).find((n) => /^index-.*\.json$/.test(n));
    assert.ok(index, 'the scan wrote its index');
    assertDurable(trace, join(stateDir, index));
  });

  it('the embedding cache on disk', () => {
    using base = tempDir();
    const file = join(base.path, 'cache', 'embeddings.json');
    const script = `const { EmbeddingCache } = await import('model-manager/runtime');
      const cache = new EmbeddingCache({ persistPath: ${JSON.stringify(file)} });
      cache.set(EmbeddingCache.key('org/model', '|', 'text'), [1, 2, 3]);
      await cache.save();`;
    // Run from the package, so `model-manager/runtime` resolves to it.
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    assertDurable(traced(base.path, [process.execPath, '--input-type=module', '-e', script], { cwd: repo }), file);
  });
});
