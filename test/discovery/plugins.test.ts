/**
 * Discovery plugins through the library: plugin modules named in model_discovery.json (relative
 * to it) and plugins registered in code; a made-up `.custom` format registered like any model
 * (categorised, sized, kept on rescans, marked missing when gone); plugins that throw, hang or
 * return an invalid record are warnings naming them, and the scan goes on.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isModelManagerError, type DiscoveryPlugin, type ModelMetadata, type ScanReport } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { mm } from './cli.js';
import { open } from './harness.js';
import { writeCustomModel, writePluginTree } from './plugin-fixtures.js';

test('a plugin for a made-up format registers its models; plugins that throw, hang or return invalid records are warnings naming them', async () => {
  using base = tempDir();
  const tree = writePluginTree(base.path);
  await using ctx = await open(base.path, { roots: [tree.root] });
  const report = await ctx.discovery.refresh();

  const alpha = await ctx.registry.getModel('vendor/alpha');
  assert.ok(alpha, `found: ${report.modelIds.join(', ')}`);
  assert.equal(alpha.modelName, 'Alpha Vision');
  assert.equal(alpha.modelType, 'multimodal');
  assert.equal(alpha.architecture, 'CustomNet');
  assert.equal(alpha.parameterCount, 1_500_000);
  assert.deepEqual(alpha.modalities, ['text', 'image']);
  assert.deepEqual(alpha.custom, { layers: 4, discoveryPlugin: 'custom-format' });
  assert.equal(alpha.source, 'discovered');
  assert.equal(alpha.localPath, tree.custom);
  // Inside the scan's rules: categorised and sized like any model found.
  assert.equal(alpha.category?.primary, 'MULTIMODAL');
  assert.ok((alpha.memoryEstimate?.weightsBytes ?? 0) > 0);
  // The built-in readers' model beside them is found as ever.
  assert.ok(await ctx.registry.getModel('llama/tiny'));
  assert.deepEqual(report.modelIds, ['llama/tiny', 'vendor/alpha']);

  const reasons = new Map(report.warnings.map((w) => [w.path, w.reason]));
  assert.equal(reasons.get(tree.boom), 'discovery plugin "throws" failed in extractMetadata(): boom: the header is upside down');
  assert.equal(reasons.get(tree.slow), 'discovery plugin "hangs" did not finish extractMetadata() within 0.2 s');
  assert.match(reasons.get(tree.bad) ?? '', /^discovery plugin "invalid" returned invalid metadata: .*modelType: .*parameterCount: .*/);
  assert.match(reasons.get(tree.bad) ?? '', /modalities/);
  assert.equal(report.counts.warnings, 3);
  const logged = await ctx.discovery.logs();
  assert.ok(logged.some((e) => e.level === 'warn' && e.path === tree.slow && e.message.includes('"hangs"')));

  // Bounded reads: the header, not the megabyte of weights behind it.
  assert.ok(report.bytesRead > 0 && report.bytesRead < 1024 * 1024, `read ${report.bytesRead} bytes`);

  const again = await ctx.discovery.refresh();
  assert.equal(again.counts.added, 0);
  assert.ok(again.counts.unchanged >= 2);
  assert.ok(await ctx.registry.getModel('vendor/alpha'));

  // A changed file is read again; a removed one is missing.
  writeCustomModel(tree.custom, { name: 'Alpha Vision 2', params: 2_000_000, layers: 4, modalities: ['text', 'image'] });
  assert.equal((await ctx.discovery.refresh()).counts.updated, 1);
  assert.equal((await ctx.registry.getModel('vendor/alpha'))?.modelName, 'Alpha Vision 2');
  rmSync(tree.custom);
  assert.equal((await ctx.discovery.refresh()).counts.missing, 1);
  assert.equal((await ctx.registry.getModel('vendor/alpha'))?.status, 'missing');
});

test('a plugin whose calls keep running out of time is left out for the rest of the scan', async () => {
  using base = tempDir();
  const tree = writePluginTree(base.path, { timeoutSeconds: 0.05 });
  const stuck = Array.from({ length: 5 }, (_, i) => join(tree.root, 'vendor', `s${i}.stuck`));
  for (const path of stuck) writeFileSync(path, 'x');
  await using ctx = await open(base.path, { roots: [tree.root] });
  const report = await ctx.discovery.refresh();
  const byHangs = report.warnings.filter((w) => w.reason.includes('"hangs"') && w.path.endsWith('.stuck'));
  assert.equal(byHangs.length, 3);
  assert.match(byHangs[2]!.reason, /canHandle\(\) within 0\.05 s; after 3 calls that ran out of time it is left out for the rest of this scan/);
  // The other plugins still ran.
  assert.ok(await ctx.registry.getModel('vendor/alpha'));
});

test('plugins registered in code run as those of the settings file; a module that is no plugin stops create()', async () => {
  using base = tempDir();
  const tree = writePluginTree(base.path);
  const seen: string[] = [];
  const notes: DiscoveryPlugin = {
    name: 'notes',
    canHandle: (path) => path.endsWith('.notes'),
    extractMetadata: async (path, { files }) => {
      seen.push(path);
      const doc = files.json(path) as { title: string };
      return { modelId: 'team/notes-model', modelName: doc.title, modelType: 'embedding_model', capabilities: ['embedding'] };
    },
    detectModalities: () => ['text'],
  };
  const notesFile = join(tree.root, 'vendor', 'n.notes');
  writeFileSync(notesFile, JSON.stringify({ title: 'Team Notes' }));
  const noPlugins = join(base.path, 'no-plugins.json');
  writeFileSync(noPlugins, '{}');
  await using ctx = await open(base.path, { roots: [tree.root], settingsPath: noPlugins, plugins: [notes] });
  await ctx.discovery.refresh();
  assert.deepEqual(seen, [notesFile]);
  const model = await ctx.registry.getModel('team/notes-model');
  assert.equal(model?.modelName, 'Team Notes');
  // Without the settings file's plugins, the .custom file is nobody's.
  assert.equal(await ctx.registry.getModel('vendor/alpha'), undefined);

  assert.throws(() => ctx.discovery.registerPlugin(notes), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /already registered/.test(e.message));
  assert.throws(() => ctx.discovery.registerPlugin({ name: 'half' } as unknown as DiscoveryPlugin), /lacks canHandle\(\), extractMetadata\(\), detectModalities\(\)/);

  const broken = join(base.path, 'broken.json');
  writeFileSync(join(base.path, 'not-a-plugin.mjs'), 'export default { name: "nope" };');
  writeFileSync(broken, JSON.stringify({ plugins: ['./not-a-plugin.mjs'] }));
  await assert.rejects(open(base.path, { settingsPath: broken }), (e) => isModelManagerError(e, 'INVALID_CONFIG') && /not-a-plugin\.mjs is not a discovery plugin: it lacks canHandle\(\)/.test(e.message));
  writeFileSync(broken, JSON.stringify({ plugins: ['./absent.mjs'] }));
  await assert.rejects(open(base.path, { settingsPath: broken }), (e) => isModelManagerError(e, 'INVALID_CONFIG') && /absent\.mjs cannot be loaded/.test(e.message));
});

test('mm scan runs the plugins model_discovery.json names in MM_HOME, and lists their warnings', async () => {
  using base = tempDir();
  const tree = writePluginTree(base.path);
  const run = mm(base.path, 'scan', tree.root);
  assert.equal(run.status, 0, run.stderr);
  const report = run.json as ScanReport;
  assert.deepEqual(report.modelIds, ['llama/tiny', 'vendor/alpha']);
  const reasons = new Map(report.warnings.map((w) => [w.path, w.reason]));
  assert.match(reasons.get(tree.boom) ?? '', /^discovery plugin "throws" failed in extractMetadata\(\)/);
  assert.match(reasons.get(tree.slow) ?? '', /^discovery plugin "hangs" did not finish extractMetadata\(\)/);
  assert.match(reasons.get(tree.bad) ?? '', /^discovery plugin "invalid" returned invalid metadata/);
  const shown = mm(base.path, 'show', 'vendor/alpha');
  assert.equal(shown.status, 0, shown.stderr);
  assert.equal((shown.json as ModelMetadata).custom?.discoveryPlugin, 'custom-format');
});
