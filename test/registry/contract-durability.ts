/**
 * Contract cases on durability, with real child processes: concurrent writers lose nothing,
 * a writer killed mid-write leaves every committed model, and files that are not ours are
 * refused and left byte-identical.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { dirname } from 'node:path';
import { Registry, isModelManagerError } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { sampleModel } from './samples.js';
import type { StoreContractOptions, StoreRefusal } from './store-contract.js';

const WRITER = fileURLToPath(new URL('./fixtures/store-writer.js', import.meta.url));

export interface Writer {
  /** Ids the child reported committed. */
  committed: string[];
  /** Resolves with the exit code (or signal) once the child is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  kill(): void;
  /** Resolves once at least `n` commits were reported. */
  reached(n: number): Promise<void>;
}

/** Starts a child that adds `count` models from `first` on to the store at `path`, `batch` at a time. */
export function startWriter(kind: string, path: string, first: number, count: number, tag: string, batch = 1): Writer {
  const child = spawn(process.execPath, [WRITER, kind, path, String(first), String(count), tag, String(batch)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const committed: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('committed ')) committed.push(line.slice('committed '.length));
    for (const w of waiters.filter((w) => committed.length >= w.n)) w.resolve();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.on('close', (code, signal) => {
      if (code) process.stderr.write(`writer ${tag} failed: ${stderr}\n`);
      resolve(signal ?? code);
    });
  });
  return {
    committed,
    exited,
    kill: () => child.kill('SIGKILL'),
    reached: (n) => new Promise<void>((resolve, reject) => {
      waiters.push({ n, resolve });
      void exited.then(() => (committed.length >= n ? resolve() : reject(new Error(`writer exited after ${committed.length} commits: ${stderr}`))));
    }),
  };
}

/** Every file in the folder of `path` with its bytes, to prove nothing was touched. */
async function snapshot(path: string): Promise<Map<string, Buffer>> {
  const dir = dirname(path);
  return new Map(readdirSync(dir).sort().map((name) => [name, readFileSync(`${dir}/${name}`)]));
}

export function durabilityCases({ open, file, kind, writeForeign, dbOf = (path) => path, refusals }: StoreContractOptions): void {
  describe('durability', () => {
    const dir = tempDir();
    after(() => dir[Symbol.dispose]());

    it('loses nothing when two processes add 500 models each at once', { timeout: 180_000 }, async () => {
      const path = `${dir.path}/concurrent-${file}`;
      const writers = [startWriter(kind, dbOf(path), 0, 500, 'first'), startWriter(kind, dbOf(path), 500, 500, 'second')];
      assert.deepEqual(await Promise.all(writers.map((w) => w.exited)), [0, 0]);
      await using registry = await Registry.open({ instance: await open(path) });
      assert.equal(await registry.countModels(), 1000);
      assert.equal(await registry.countModels({ tags: ['first'] }), 500);
      assert.equal(await registry.countModels({ tags: ['second'] }), 500);
      const stored = new Set((await registry.listModels()).map((m) => m.modelId));
      for (const id of writers.flatMap((w) => w.committed)) assert.ok(stored.has(id), `${id} was reported committed but is missing`);
      assert.equal((await registry.getStats()).totalVersions, 1000);
    });

    it('keeps every committed model when a writer is killed mid-write', { timeout: 120_000 }, async () => {
      const path = `${dir.path}/killed-${file}`;
      const writer = startWriter(kind, dbOf(path), 0, 1_000_000, 'killed');
      await writer.reached(40);
      writer.kill();
      assert.equal(await writer.exited, 'SIGKILL');
      const committed = [...writer.committed];
      await using registry = await Registry.open({ instance: await open(path) });
      const stored = new Set((await registry.listModels()).map((m) => m.modelId));
      for (const id of committed) assert.ok(stored.has(id), `${id} was reported committed but is missing`);
      assert.ok(stored.size >= committed.length);
      // The store is not just readable but writable again.
      await registry.addModel(sampleModel(2_000_000));
      assert.ok(await registry.getModel(sampleModel(2_000_000).modelId));
    });

    const cases: StoreRefusal[] = refusals ?? [
      { what: 'a corrupt file', code: 'STORE_CORRUPT', snapshot, write: async (path) => writeFileSync(path, Buffer.from('this is no registry \u0000\u00ff\n'.repeat(300), 'latin1')) },
      { what: 'a file of another program', code: 'STORE_FOREIGN', snapshot, write: writeForeign },
    ];
    for (const { what, code, write, snapshot: snap } of cases) {
      it(`refuses ${what} with ${code} and leaves it byte-identical`, async () => {
        using folder = tempDir();
        const path = `${folder.path}/${file}`;
        await write(path);
        const before = await snap(path);
        await assert.rejects(open(path), (error) => {
          assert.ok(isModelManagerError(error, code), `expected ${code}, got ${String(error)}`);
          assert.match(error.message, /left untouched/);
          return true;
        });
        await assert.rejects(Registry.open({ store: kind, db: dbOf(path) }), (error) => isModelManagerError(error, code));
        assert.deepEqual(await snap(path), before);
      });
    }
  });
}
