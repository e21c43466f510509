import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from '../../src/index.js';
import { DescribePool, describeOutcome } from '../../src/discovery/describe-pool.js';
import { DEFAULT_CATEGORIZATION_RULES } from '../../src/discovery/rules.js';
import { runScan } from '../../src/discovery/scan.js';
import { allowedFormats, loadDiscoverySettings } from '../../src/discovery/settings.js';
import { DiscoveryState } from '../../src/discovery/state.js';
import { walkRoot } from '../../src/discovery/walk.js';
import { WarningSink } from '../../src/discovery/fs-scan.js';
import { tempDir } from '../helpers/tmp.js';
import { llamaSafetensors, writeSafetensors } from './formats-writer.js';
import { buildTree } from './tree.js';

/** Scans the tree into a fresh registry; returns the report and the records without their timestamps. */
async function scan(base: string, tree: ReturnType<typeof buildTree>, name: string, threads: { workers: number; workersAbove: number }) {
  await using registry = await Registry.open({ store: 'sqlite', db: join(base, `${name}.db`) });
  const state = await DiscoveryState.open(join(base, name), registry.store.location);
  const settings = await loadDiscoverySettings(undefined, { overrides: { includeDefaultRoots: false } });
  const report = await runScan({ registry, state, settings, rules: DEFAULT_CATEGORIZATION_RULES, roots: [tree.models, tree.hfCache, tree.ollama], ...threads });
  const records = (await registry.listModels()).map(({ createdAt: _c, updatedAt: _u, ...m }) => m).sort((a, b) => a.modelId.localeCompare(b.modelId));
  return { report, records };
}

test('headers read in worker threads give the same registry, warnings and bytes read as the main thread', async () => {
  using base = tempDir();
  const tree = buildTree(join(base.path, 'tree'));
  // A side file that is only a warning: the model is still added, and the warning comes back from the thread.
  const chat = join(tree.models, 'language', 'chat', readdirSync(join(tree.models, 'language', 'chat'))[0]!);
  writeFileSync(join(chat, 'metadata.json'), '{ not json');
  const serial = await scan(base.path, tree, 'serial', { workers: 0, workersAbove: 0 });
  const threaded = await scan(base.path, tree, 'threaded', { workers: 2, workersAbove: 0 });
  assert.ok(serial.records.length > 5 && serial.report.warnings.length > 3, 'the tree holds models and broken files');
  assert.ok(serial.report.warnings.some((w) => w.path === join(chat, 'metadata.json') && /not valid JSON/.test(w.reason)));
  assert.deepEqual(threaded.records, serial.records);
  const byPath = (w: { path: string }[]) => [...w].sort((a, b) => a.path.localeCompare(b.path));
  assert.deepEqual(byPath(threaded.report.warnings), byPath(serial.report.warnings));
  assert.deepEqual(threaded.report.counts, serial.report.counts);
  assert.deepEqual(threaded.report.modelIds, serial.report.modelIds);
  assert.equal(threaded.report.bytesRead, serial.report.bytesRead);
  assert.equal(threaded.report.maxModelBytesRead, serial.report.maxModelBytesRead);
  assert.equal(serial.report.readerThreads, 0);
  assert.ok(threaded.report.readerThreads! >= 2, 'the report says how many reader threads read');
});

test('models given to two threads, some while they read, are each answered with what the main thread would read', async () => {
  using base = tempDir();
  const tree = buildTree(join(base.path, 'tree'));
  const settings = await loadDiscoverySettings(undefined, { overrides: { includeDefaultRoots: false } });
  const { units } = await walkRoot(tree.models, { maxDepth: 5, scanSubdirectories: true, excludePatterns: [], formats: allowedFormats(settings), warnings: new WarningSink() });
  await using pool = new DescribePool({ workers: 2 });
  const first = units.slice(0, 3).map((u) => pool.describe(u));
  await first[0];
  const rest = units.slice(3).map((u) => pool.describe(u));
  const outcomes = await Promise.all([...first, ...rest]);
  assert.equal(outcomes.length, units.length);
  for (const [i, o] of outcomes.entries()) assert.deepEqual(o, await describeOutcome(units[i]!));
  assert.ok(outcomes.some((o) => 'findings' in o) && outcomes.some((o) => 'error' in o), 'the tree holds readable and broken models');
});

test('threads added while models are read (as a scan does when reads wait on the disk) share the rest of them', async () => {
  using base = tempDir();
  const tree = buildTree(join(base.path, 'tree'));
  const settings = await loadDiscoverySettings(undefined, { overrides: { includeDefaultRoots: false } });
  const { units } = await walkRoot(tree.models, { maxDepth: 5, scanSubdirectories: true, excludePatterns: [], formats: allowedFormats(settings), warnings: new WarningSink() });
  await using pool = new DescribePool({ workers: 1, maxWorkers: 3 });
  const first = units.slice(0, 5).map((u) => pool.describe(u));
  assert.equal(pool.grow(), true);
  await first[0];
  const rest = units.slice(5).map((u) => pool.describe(u));
  assert.equal(pool.grow(), true);
  assert.equal(pool.grow(), false, 'no more than maxWorkers');
  assert.equal(pool.workers, 3);
  const outcomes = await Promise.all([...first, ...rest]);
  for (const [i, o] of outcomes.entries()) assert.deepEqual(o, await describeOutcome(units[i]!));
});

test('a closed pool refuses work, and models still waiting are refused rather than left hanging', async () => {
  using base = tempDir();
  const tree = buildTree(join(base.path, 'tree'));
  const pool = new DescribePool({ workers: 1 });
  const unit = { kind: 'gguf' as const, localPath: join(tree.models, 'x.gguf'), root: tree.models, idHint: 'x', files: [] };
  const waiting = assert.rejects(pool.describe(unit), /closed/);
  await pool.close();
  await waiting;
  await assert.rejects(pool.describe(unit), /closed/);
});

test('a scan of more models than a registry batch adds each once, written while headers are still read, the last ones in small batches', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const tensors = llamaSafetensors({ layers: 1 });
  const count = 1_100; // a full batch of 500 goes in while reading, then smaller ones once fewer than 500 are left
  for (let i = 0; i < count; i++) {
    const dir = join(root, `m${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' }));
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
  }
  await using registry = await Registry.open({ store: 'sqlite', db: join(base.path, 'registry.db') });
  const state = await DiscoveryState.open(join(base.path, 'state'), registry.store.location);
  const settings = await loadDiscoverySettings(undefined, { overrides: { includeDefaultRoots: false } });
  const batches: number[] = [];
  const addModels = registry.addModels.bind(registry);
  registry.addModels = async (inputs, change) => {
    batches.push(inputs.length);
    return addModels(inputs, change);
  };
  const report = await runScan({ registry, state, settings, rules: DEFAULT_CATEGORIZATION_RULES, roots: [root], workers: 2 });
  assert.deepEqual(report.warnings, []);
  assert.equal(report.counts.added, count);
  assert.equal(batches[0], 500);
  // The last batch is written after the last header is read: it is the scan's tail, so it is small
  // (64, plus the few outcomes that came in one message meanwhile).
  assert.ok(batches.length > 3 && batches.at(-1)! <= 80, `batches: ${batches.join(', ')}`);
  assert.equal(await registry.countModels({ source: 'discovered' }), count);
  assert.equal(report.modelIds.length, count);
  const again = await runScan({ registry, state, settings, rules: DEFAULT_CATEGORIZATION_RULES, roots: [root], workers: 2 });
  assert.equal(again.counts.unchanged, count, 'the index remembers every model written in a batch');
});
