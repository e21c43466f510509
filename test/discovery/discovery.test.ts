import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, constants, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import picomatch from 'picomatch';
import { isModelManagerError, type ModelMetadata, type ScanReport } from '../../src/index.js';
import { DISCOVERY_CHANGES } from '../../src/discovery/change-notes.js';
import { excluder } from '../../src/discovery/walk.js';
import { tempDir } from '../helpers/tmp.js';
import { handOver } from '../helpers/unprivileged.js';
import { mmUnprivileged } from './cli.js';
import { llamaSafetensors, writeSafetensors } from './formats-writer.js';
import { ggufModel, open } from './harness.js';

test('a file that changes during the scan is a warning, and the registry keeps what it had', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const file = ggufModel(join(root, 'x'), 'moving');
  mkdirSync(join(root, 'x', 'sub'));
  await using ctx = await open(base.path, { roots: [root] });
  // The walk stats x/ before it enters x/sub; growing the file then is a change mid-scan.
  const report = await ctx.discovery.refresh({
    onProgress: (p) => {
      if (p.total === undefined && p.path.endsWith('sub')) appendFileSync(file, Buffer.alloc(64));
    },
  });
  assert.deepEqual(report.warnings.map((w) => [w.path, /changed while it was being read/.test(w.reason)]), [[file, true]]);
  assert.equal(report.counts.added, 0);
  assert.equal(await ctx.registry.getModel('x/moving'), undefined);
  const next = await ctx.discovery.refresh();
  assert.equal(next.counts.added, 1, 'the next scan reads it again');
});

test('settings in the seed format: exclude patterns, formats and depth are obeyed', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  ggufModel(join(root, 'keep'), 'a');
  ggufModel(join(root, 'drafts'), 'b');
  ggufModel(join(root, 'one', 'two', 'three'), 'deep');
  mkdirSync(join(root, 'st'), { recursive: true });
  writeFileSync(join(root, 'st', 'config.json'), '{}');
  writeSafetensors(join(root, 'st', 'model.safetensors'), llamaSafetensors({ layers: 1 }));
  const settingsPath = join(base.path, 'model_discovery.json');
  writeFileSync(settingsPath, JSON.stringify({ discovery: { scan_interval_minutes: 5, max_scan_depth: 2, supported_formats: ['gguf'], exclude_patterns: ['drafts', '*.tmp'] } }));
  await using ctx = await open(base.path, { roots: [root], settingsPath });
  assert.equal(ctx.discovery.status().settings.scanIntervalMinutes, 5);
  const report = await ctx.discovery.refresh();
  assert.deepEqual(report.modelIds, ['keep/a']);

  writeFileSync(settingsPath, JSON.stringify({ discovery: { max_scan_depth: 'deep' } }));
  await assert.rejects(open(base.path, { settingsPath }), (e) => isModelManagerError(e, 'INVALID_CONFIG') && /maxScanDepth/.test(e.message));
});

test('register() adds one folder with overrides; a path without a model is refused', async () => {
  using base = tempDir();
  const dir = join(base.path, 'elsewhere', 'my-model');
  ggufModel(dir, 'weights');
  await using ctx = await open(base.path, { roots: [] });
  const m = await ctx.discovery.register(join(dir, 'weights.gguf'), { modelId: 'team/my-model', tags: ['pinned'] });
  assert.deepEqual([m.modelId, m.format, m.tags, m.source], ['team/my-model', 'gguf', ['pinned'], 'discovered']);
  assert.deepEqual((await ctx.discovery.discovered()).map((d) => d.modelId), ['team/my-model']);
  const other = join(base.path, 'other');
  ggufModel(other, 'weights');
  await assert.rejects(ctx.discovery.register(join(other, 'weights.gguf'), { modelId: 'team/my-model' }), (e) => isModelManagerError(e, 'MODEL_EXISTS'));
  mkdirSync(join(base.path, 'empty'));
  await assert.rejects(ctx.discovery.register(join(base.path, 'empty')), (e) => isModelManagerError(e, 'FILE_NOT_FOUND'));
  const logs = await ctx.discovery.logs();
  assert.equal(logs[0]?.message, 'registered team/my-model');
});

test('custom categorization rules decide the categories', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  ggufModel(join(root, 'contracts'), 'lexis-7b');
  const rulesPath = join(base.path, 'model_categorization.json');
  writeFileSync(rulesPath, JSON.stringify({ categorization_rules: { specialization: { LEGAL: { keywords: ['lexis'] } }, secondary_category: { DRAFTING: { keywords: ['contracts'] } } } }));
  await using ctx = await open(base.path, { roots: [root], rulesPath });
  await ctx.discovery.refresh();
  const m = await ctx.registry.requireModel('contracts/lexis-7b');
  assert.deepEqual(m.category, { primary: 'LANGUAGE', secondary: 'DRAFTING', specialization: 'LEGAL' });
});

test('an unreadable folder is a warning and its models are not marked missing (scanned by a user who cannot read it)', () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  ggufModel(join(root, 'locked'), 'inside');
  handOver(base.path);
  const scan = () => {
    const run = mmUnprivileged(base.path, 'scan', root);
    assert.equal(run.status, 0, run.stderr);
    return run.json as ScanReport;
  };
  assert.equal(scan().counts.added, 1);
  chmodSync(join(root, 'locked'), 0o000);
  try {
    const report = scan();
    assert.ok(report.warnings.some((w) => w.path === join(root, 'locked') && /cannot read folder/.test(w.reason)), JSON.stringify(report.warnings));
    assert.equal(report.counts.missing, 0);
    assert.equal((mmUnprivileged(base.path, 'show', 'locked/inside').json as ModelMetadata).status, 'available');
  } finally {
    chmodSync(join(root, 'locked'), 0o755);
  }
});

test('start() scans at once, concurrent refreshes share one scan, and logs stay bounded', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  ggufModel(join(root, 'm'), 'one');
  await using ctx = await open(base.path, { roots: [root], settings: { maxLogEntries: 4, scanIntervalMinutes: 60 } });
  ctx.discovery.start();
  assert.equal(ctx.discovery.status().running, true);
  assert.ok(ctx.discovery.status().nextScanAt);
  const [a, b] = await Promise.all([ctx.discovery.refresh(), ctx.discovery.refresh()]);
  assert.equal(a.scanId, b.scanId);
  ctx.discovery.stop();
  assert.equal(ctx.discovery.status().nextScanAt, undefined);
  for (let i = 0; i < 5; i++) await ctx.discovery.refresh();
  const logs = await ctx.discovery.logs({ limit: 1000 });
  assert.ok(logs.length <= 8, `kept ${logs.length} entries`);
  assert.match(logs[0]!.message, /^scan finished/);
});

test('a model file given as a root is scanned; a root that does not exist is a warning and marks nothing missing', async () => {
  using base = tempDir();
  const file = ggufModel(join(base.path, 'loose'), 'solo');
  const gone = join(base.path, 'unmounted');
  await using ctx = await open(base.path, { roots: [file] });
  const report = await ctx.discovery.refresh();
  assert.deepEqual(report.modelIds, ['solo']);
  await ctx.registry.addModel({ modelId: 'was/there', modelType: 'decoder_only', source: 'discovered', localPath: join(gone, 'm') });
  const missingRoot = await ctx.discovery.refresh({ roots: [gone] });
  assert.deepEqual(missingRoot.warnings, [{ path: gone, reason: 'root does not exist' }]);
  assert.equal(missingRoot.counts.missing, 0);
  assert.equal((await ctx.registry.requireModel('was/there')).status, undefined);
});

test('a registered model whose weights break stays registered (not missing) while the warning repeats', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const file = ggufModel(join(root, 'm'), 'fragile');
  await using ctx = await open(base.path, { roots: [root] });
  assert.equal((await ctx.discovery.refresh()).counts.added, 1);
  writeFileSync(file, 'no longer a GGUF file');
  for (let i = 0; i < 2; i++) {
    ggufModel(join(root, `new${i}`), 'other'); // something else changes too, so the scan takes its full path
    const report = await ctx.discovery.refresh();
    assert.deepEqual([report.counts.missing, report.warnings.length], [0, 1]);
    assert.match(report.warnings[0]!.reason, /GGUF magic/);
    const m = await ctx.registry.requireModel('m/fragile');
    assert.equal(m.status, 'available', 'the registry keeps what it had');
    assert.equal(m.format, 'gguf');
  }
});

test('with watch on, a new model file under a root is scanned without being asked', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  mkdirSync(root);
  await using ctx = await open(base.path, { roots: [root], settings: { watch: true, autoRefreshOnStartup: false, scanIntervalMinutes: 0 } });
  ctx.discovery.start();
  ggufModel(join(root, 'dropped'), 'in');
  for (let i = 0; i < 100 && !ctx.discovery.status().lastScan; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  while (ctx.discovery.status().running) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(ctx.discovery.status().lastScan?.counts.added, 1);
  assert.equal((await ctx.registry.requireModel('dropped/in')).format, 'gguf');
});

test('a scan leaves the access times of the files it reads alone (Linux)', { skip: constants.O_NOATIME === undefined ? 'no O_NOATIME here' : false }, async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const gguf = ggufModel(join(root, 'gguf'), 'tiny');
  mkdirSync(join(root, 'hf'));
  const hfFiles = ['config.json', 'README.md', 'model.safetensors'].map((name) => join(root, 'hf', name));
  writeFileSync(hfFiles[0]!, JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama' }));
  writeFileSync(hfFiles[1]!, '---\ntags: [chat]\n---\nA model.\n');
  writeSafetensors(hfFiles[2]!, llamaSafetensors({ layers: 1 }));
  // Last read two days ago: with `relatime` (Linux's default) a plain read now would update it.
  // Whole seconds, so the time read back (a float of seconds and nanoseconds) compares exactly.
  const daysAgo = (days: number) => new Date(Math.floor(Date.now() / 1000 - days * 86_400) * 1000);
  const lastRead = daysAgo(2);
  const written = daysAgo(3);
  for (const f of [gguf, ...hfFiles]) utimesSync(f, lastRead, written);
  await using ctx = await open(base.path, { roots: [root] });
  const report = await ctx.discovery.refresh();
  assert.equal(report.counts.added, 2);
  assert.ok(report.bytesRead > 0);
  for (const f of [gguf, ...hfFiles]) assert.equal(statSync(f).atimeMs, lastRead.getTime(), `${f} keeps its access time`);
});

test('models indexed by an older reader are read again once, and what it got wrong is corrected', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const dir = join(root, 'sd-unet');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ _class_name: 'UNet2DConditionModel', _diffusers_version: '0.30.0' }));
  writeSafetensors(join(dir, 'diffusion_pytorch_model.safetensors'), { w: { dtype: 'F32', shape: [8, 8] } });
  writeSafetensors(join(dir, 'diffusion_pytorch_model.fp16.safetensors'), { w: { dtype: 'F16', shape: [8, 8] } });
  await using ctx = await open(base.path, { roots: [root] });
  assert.equal((await ctx.discovery.refresh()).counts.added, 1);
  // What a reader that counted the fp16 copy too left behind: a doubled count, and an index without its version.
  await ctx.registry.updateModel('sd-unet', { parameterCount: 128 }, DISCOVERY_CHANGES.updated);
  const indexDir = join(base.path, 'home', 'discovery');
  const indexFile = join(indexDir, readdirSync(indexDir).find((n) => n.startsWith('index-'))!);
  const { reader, ...older } = JSON.parse(readFileSync(indexFile, 'utf8')) as { reader: number };
  assert.ok(reader > 1);
  writeFileSync(indexFile, JSON.stringify(older));

  await using again = await open(base.path, { roots: [root] });
  const reread = await again.discovery.refresh();
  assert.ok(reread.bytesRead > 0, 'read again');
  assert.deepEqual([reread.counts.added, reread.counts.updated], [0, 1]);
  assert.equal((await again.registry.getModel('sd-unet'))?.parameterCount, 64);
  assert.equal((await again.discovery.refresh()).bytesRead, 0, 'once');
});

test('exclude globs match names as picomatch matches them, and paths below the root for globs with a slash', () => {
  const globs = ['*.tmp', '*.lock', '.git', '__pycache__', 'tmp*', '[ab]*.bin', '{x,y}.gguf'];
  const isExcluded = excluder('/r', [...globs, 'drafts/**']);
  const each = picomatch(globs, { dot: true });
  for (const name of ['x.tmp', '.x.tmp', 'a.lock', '.git', 'git', '__pycache__', 'tmpfile', 'a1.bin', 'c1.bin', 'x.gguf', 'z.gguf', 'keep', 'a.tmp.gguf', 'X.TMP']) {
    assert.equal(isExcluded(name, `/r/m/${name}`), each(name), name);
  }
  assert.equal(isExcluded('w.gguf', '/r/drafts/old/w.gguf'), true);
  assert.equal(isExcluded('w.gguf', '/r/final/w.gguf'), false);
});
