/**
 * A rescan brings a record in step with its files, and with nothing else: it changes only fields
 * the files gave, and of those only the values discovery set. What a person set (access, groups,
 * a description, tags, a model type) stays, however often the files change.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { writeSafetensors, llamaSafetensors } from './formats-writer.js';
import { ggufModel, open } from './harness.js';

const README = (summary: string, tags: string[], license = 'mit') => `---\nlicense: ${license}\ntags: [${tags.join(', ')}]\n---\n# Model\n\n${summary}\n`;

/** An HF-style folder: config.json, README.md, safetensors weights. */
function hfFolder(dir: string, { summary, tags, context = 2048, license }: { summary: string; tags: string[]; context?: number; license?: string }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', num_attention_heads: 8, max_position_embeddings: context }));
  writeFileSync(join(dir, 'README.md'), README(summary, tags, license));
  writeSafetensors(join(dir, 'model.safetensors'), llamaSafetensors({ layers: 1 }));
}

test('a rescan never makes a restricted or admin_only model public, nor drops its groups, aliases or metrics', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  hfFolder(join(root, 'team', 'secret'), { summary: 'First words.', tags: ['a'] });
  ggufModel(join(root, 'team', 'hidden'), 'model');
  await using ctx = await open(base.path, { roots: [root] });
  await ctx.discovery.refresh();
  await ctx.registry.updateModel('team/secret', { accessLevel: 'restricted', groups: ['research'], displayName: 'The Secret One', useCases: ['triage'] });
  await ctx.registry.updateModel('team/hidden/model', { accessLevel: 'admin_only' });
  await ctx.registry.setAlias('team/secret', 'production', 2);
  await ctx.registry.addQualityMetric({ modelId: 'team/secret', name: 'MMLU', value: 0.5, shots: 5 });

  writeFileSync(join(root, 'team', 'secret', 'README.md'), README('Second words.', ['a']));
  ggufModel(join(root, 'team', 'hidden'), 'model'); // rewritten: a new mtime
  const report = await ctx.discovery.refresh();
  assert.equal(report.counts.updated, 2);
  const secret = await ctx.registry.requireModel('team/secret');
  assert.deepEqual(
    [secret.accessLevel, secret.groups, secret.displayName, secret.useCases, secret.aliases, secret.qualityMetrics.map((q) => q.name)],
    ['restricted', ['research'], 'The Secret One', ['triage'], { production: 2 }, ['MMLU']],
  );
  assert.equal(secret.description, 'Second words.', 'what only the files set follows the files');
  assert.equal((await ctx.registry.requireModel('team/hidden/model')).accessLevel, 'admin_only');
});

test('a value a person set wins over what the files say, scan after scan, even when the scan index is lost', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const dir = join(root, 'org', 'chat');
  hfFolder(dir, { summary: 'From the README.', tags: ['chat'] });
  {
    await using ctx = await open(base.path, { roots: [root] });
    await ctx.discovery.refresh();
    const found = await ctx.registry.requireModel('org/chat');
    assert.deepEqual([found.description, found.tags, found.license, found.contextLength, found.modelType], ['From the README.', ['chat'], 'mit', 2048, 'decoder_only']);
    await ctx.registry.updateModel('org/chat', { description: 'Written by a person.', tags: ['chat', 'reviewed'], modelType: 'multimodal' });
  }
  for (const [i, context] of [4096, 8192].entries()) {
    hfFolder(dir, { summary: `README, version ${i + 2}.`, tags: ['chat', `v${i + 2}`], context, license: `license-${i + 2}` });
    // The index is only a cache: who set a value is read from the registry's history.
    rmSync(join(base.path, 'home', 'discovery'), { recursive: true, force: true });
    await using ctx = await open(base.path, { roots: [root] });
    assert.equal((await ctx.discovery.refresh()).counts.updated, 1);
    const m = await ctx.registry.requireModel('org/chat');
    assert.deepEqual([m.description, m.tags, m.modelType], ['Written by a person.', ['chat', 'reviewed'], 'multimodal'], `scan ${i + 2}: the person's values stay`);
    assert.deepEqual([m.contextLength, m.license], [context, `license-${i + 2}`], `scan ${i + 2}: the files' values follow the files`);
  }
});

test('a record added by hand keeps what its author set when a scan finds its files, and gets what it lacked', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const weights = ggufModel(join(root, 'manual'), 'weights');
  await using ctx = await open(base.path, { roots: [root] });
  await ctx.registry.addModel({ modelId: 'team/by-hand', modelType: 'embedding_model', description: 'Added by hand.', accessLevel: 'restricted', localPath: weights });
  const report = await ctx.discovery.refresh();
  assert.deepEqual(report.modelIds, ['team/by-hand']);
  const m = await ctx.registry.requireModel('team/by-hand');
  assert.deepEqual([m.modelType, m.description, m.accessLevel, m.source], ['embedding_model', 'Added by hand.', 'restricted', 'manual']);
  assert.deepEqual([m.format, m.architecture, m.files.length], ['gguf', 'llama', 1], 'what the record lacked comes from the files');
});

test('fields given to register() are the caller\'s: later scans leave them as set', async () => {
  using base = tempDir();
  const root = join(base.path, 'models');
  const dir = join(root, 'reg');
  hfFolder(dir, { summary: 'Registered.', tags: ['from-readme'] });
  await using ctx = await open(base.path, { roots: [root] });
  await ctx.discovery.register(dir, { modelId: 'team/registered', accessLevel: 'restricted', groups: ['g'], tags: ['pinned'] });
  hfFolder(dir, { summary: 'Changed.', tags: ['other'] });
  assert.equal((await ctx.discovery.refresh()).counts.updated, 1);
  const m = await ctx.registry.requireModel('team/registered');
  assert.deepEqual([m.accessLevel, m.groups, m.tags, m.description], ['restricted', ['g'], ['pinned'], 'Changed.']);
});
