import assert from 'node:assert/strict';
import { rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { Registry, type ModelMetadata, type ScanLogEntry, type ScanReport, type ValidationReport } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { mm, mmWithEnv } from './cli.js';
import { buildTree } from './tree.js';

const GOOD = [
  'acme/tiny-diffusion/unet', 'acme/tiny-diffusion/vae', 'acme/tiny-llama', 'adapters/llama-chat-lora', 'audio/whisper-tiny', 'checkpoints/sd-turbo', 'checkpoints/tiny', 'embeddings/minilm-onnx', 'embeddings/nomic-embed', 'embeddings/st-minilm', 'embeddings/xenova-minilm', 'language/chat/llama-2-7b-chat',
  'language/code/starcoder-gguf/starcoder.Q4_K_M', 'language/code/starcoder-gguf/starcoder.Q8_0', 'language/reasoning/mixtral/mixtral',
  'legacy/ggml-model-q4_0', 'misc/checkpoint', 'ollama/llama3:8b', 'resnet50', 'specialized/medical/biogpt-large',
];

async function models(base: string): Promise<Map<string, ModelMetadata>> {
  await using registry = await Registry.open({ store: 'sqlite', db: join(base, 'registry.db') });
  return new Map((await registry.listModels()).map((m) => [m.modelId, m]));
}

test('mm scan turns a tree of every model kind into registry entries, with a warning for each broken file', async () => {
  using base = tempDir();
  const tree = buildTree(base.path);
  const run = mm(base.path, 'scan', tree.models, tree.hfCache, tree.ollama);
  assert.equal(run.status, 0, run.stderr);
  const report = run.json as ScanReport;
  assert.deepEqual(report.modelIds, GOOD);
  assert.equal(report.counts.added, GOOD.length);
  assert.equal(report.counts.missing, 0);
  for (const [what, path] of Object.entries(tree.broken)) {
    assert.ok(report.warnings.some((w) => w.path === path), `a warning names the ${what} file ${path}: ${JSON.stringify(report.warnings)}`);
  }
  const reasons = new Map(report.warnings.map((w) => [w.path, w.reason]));
  assert.match(reasons.get(tree.broken.junk!)!, /GGUF magic/);
  assert.match(reasons.get(tree.broken.lying!)!, /tensors, over the/);
  assert.match(reasons.get(tree.broken.truncated!)!, /truncated or lying/);
  assert.match(reasons.get(tree.broken.halfShards!)!, /shards are missing/);
  assert.match(reasons.get(tree.broken.halfSafetensors!)!, /1 of 3 safetensors shards are missing \(first: .*weights-00002-of-00003\.safetensors\)/);
  assert.match(reasons.get(tree.broken.selfLink!)!, /symlink loop/);
  assert.match(reasons.get(tree.broken.nonUtf8!)!, /UTF-8/);
  assert.match(reasons.get(tree.broken.pipe!)!, /not a regular file/);
  assert.ok(!report.warnings.some((w) => w.path.endsWith('.tmp')), 'excluded files are not even looked at');

  const all = await models(base.path);
  assert.deepEqual([...all.keys()].sort(), GOOD);
  const chat = all.get('language/chat/llama-2-7b-chat')!;
  assert.equal(chat.source, 'discovered');
  assert.equal(chat.status, 'available');
  assert.equal(chat.format, 'safetensors');
  assert.equal(chat.parameterCount, 256 * 64 * 2 + 2 * (4 * 64 * 64 + 3 * 128 * 64 + 2 * 64) + 64);
  assert.equal(chat.displayName, 'Llama 2 Chat 7B', 'metadata.json overrides');
  assert.deepEqual(chat.languages, ['en', 'es'], 'metadata.json language_support wins over the README');
  assert.equal(chat.license, 'llama2');
  assert.equal(chat.description, 'A dialogue model tuned for helpfulness. Second line.');
  assert.equal(chat.contextLength, 4096);
  assert.equal(chat.attentionType, 'mha');
  assert.ok(chat.capabilities.includes('chat'), 'chat template -> chat');
  assert.deepEqual(chat.category, { primary: 'LANGUAGE', secondary: 'CHAT', specialization: 'GENERAL' });
  assert.equal(chat.performanceMetrics.accuracy_score, 0.85);
  assert.equal((chat.custom as Record<string, unknown>).favouriteColour, 'blue');
  assert.equal(chat.localPath, join(tree.models, 'language/chat/llama-2-7b-chat'));
  assert.ok(chat.files.length >= 6 && chat.files.every((f) => f.size !== undefined && f.mtimeMs !== undefined));

  const q4 = all.get('language/code/starcoder-gguf/starcoder.Q4_K_M')!;
  assert.deepEqual([q4.format, q4.quantization, q4.attentionType, q4.category?.secondary], ['gguf', 'Q4_K_M', 'mqa', 'CODE']);
  assert.equal(all.get('language/code/starcoder-gguf/starcoder.Q8_0')!.quantization, 'Q8_0');
  assert.equal(all.get('language/reasoning/mixtral/mixtral')!.files.length, 2, 'both shards belong to one model');
  assert.equal(all.get('embeddings/nomic-embed')!.modelType, 'embedding_model');
  assert.equal(all.get('legacy/ggml-model-q4_0')!.format, 'ggml');
  assert.equal(all.get('misc/checkpoint')!.format, 'pytorch');
  const minilm = all.get('embeddings/minilm-onnx')!;
  assert.deepEqual(minilm.inputs.map((i) => [i.name, i.dataType, i.dtype]), [['input_ids', 'TOKENS', 'int64'], ['attention_mask', 'TOKENS', 'int64']]);
  const xenova = all.get('embeddings/xenova-minilm')!;
  assert.deepEqual([xenova.format, xenova.parameterCount, xenova.files.filter((f) => f.path.endsWith('.onnx')).length], ['onnx', 30522 * 384, 3], 'three precisions of one model count once');
  const st = all.get('embeddings/st-minilm')!;
  assert.deepEqual([st.format, st.modelType, st.supportedBackends], ['safetensors', 'embedding_model', ['transformers']], 'its ONNX export runs on transformers');
  const resnet = all.get('resnet50')!;
  assert.deepEqual([resnet.category?.primary, resnet.inputs[0]?.dataType, resnet.modalities], ['VISION', 'IMAGE', ['image']]);
  const whisper = all.get('audio/whisper-tiny')!;
  assert.deepEqual([whisper.format, whisper.category?.primary, whisper.inputs.map((i) => i.dataType)], ['pytorch', 'AUDIO', ['AUDIO']]);
  assert.equal(all.get('specialized/medical/biogpt-large')!.category?.specialization, 'MEDICAL');
  // Safetensors without config.json: an adapter folder, a loose checkpoint, a shard set with its index.
  const lora = all.get('adapters/llama-chat-lora')!;
  assert.deepEqual([lora.format, lora.parameterCount, lora.baseModel, lora.tags, lora.localPath], ['safetensors', 8 * 64, 'meta-llama/Llama-2-7b-hf', ['adapter', 'lora'], join(tree.models, 'adapters/llama-chat-lora')]);
  assert.deepEqual(lora.files.map((f) => basename(f.path)).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
  const turbo = all.get('checkpoints/sd-turbo')!;
  assert.deepEqual([turbo.modelName, turbo.format, turbo.parameterCount, turbo.files.length], ['sd-turbo', 'safetensors', 320 * 4 * 9, 1]);
  const tiny = all.get('checkpoints/tiny')!;
  assert.deepEqual([tiny.modelName, tiny.parameterCount, tiny.localPath], ['tiny', 105, join(tree.models, 'checkpoints/tiny-00001-of-00002.safetensors')]);
  assert.deepEqual(tiny.files.map((f) => basename(f.path)), ['tiny-00001-of-00002.safetensors', 'tiny-00002-of-00002.safetensors', 'tiny.safetensors.index.json']);
  assert.equal(all.get('language/reasoning/mixtral/mixtral')!.modelName, 'mixtral', 'a shard set is named without its shard suffix');
  // A diffusers pipeline in the cache: one model per component; a precision variant is not counted twice.
  const unet = all.get('acme/tiny-diffusion/unet')!;
  assert.deepEqual([unet.format, unet.parameterCount, unet.files.length], ['safetensors', 320 * 4 * 9, 3]);
  assert.deepEqual([unet.architecture, unet.modelType, unet.modalities, unet.category?.primary], ['UNet2DConditionModel', 'vision_model', ['image'], 'VISION']);
  assert.equal(all.get('acme/tiny-diffusion/vae')!.parameterCount, 128 * 3 * 9);
  assert.ok(!report.warnings.some((w) => w.path.includes('tiny-diffusion')), 'a pipeline is not an incomplete download');
  const cached = all.get('acme/tiny-llama')!;
  assert.match(cached.localPath!, /snapshots\/abc123$/, 'the snapshot refs/main names');
  assert.equal(cached.attentionType, 'gqa');
  const ollama = all.get('ollama/llama3:8b')!;
  assert.deepEqual([ollama.format, ollama.capabilities.includes('chat'), ollama.parameterCount! > 0], ['gguf', true, true]);

  // The scan is logged and its summary survives the process.
  const status = mm(base.path, 'discovery', 'status').json as { lastScan: { scanId: string; counts: { added: number } } };
  assert.equal(status.lastScan.scanId, report.scanId);
  assert.equal(status.lastScan.counts.added, GOOD.length);
  const logs = mm(base.path, 'discovery', 'logs', '--limit', '200').json as ScanLogEntry[];
  assert.ok(logs.some((e) => e.level === 'warn' && e.path === tree.broken.junk && e.scanId === report.scanId));
  assert.ok(logs.some((e) => e.message === 'added resnet50'));
});

test('rescans read only what changed, keep manual categories, mark vanished models missing, and validate finds damage', async () => {
  using base = tempDir();
  const tree = buildTree(base.path);
  const roots = [tree.models, tree.hfCache, tree.ollama];
  const first = mm(base.path, 'scan', ...roots).json as ScanReport;

  const again = mm(base.path, 'scan', ...roots).json as ScanReport;
  assert.deepEqual([again.counts.added, again.counts.updated, again.counts.unchanged], [0, 0, GOOD.length]);
  assert.equal(again.bytesRead, 0, 'nothing is read again, broken files included');
  const sorted = (r: ScanReport) => r.warnings.map((w) => `${w.path}: ${w.reason}`).sort();
  assert.deepEqual(sorted(again), sorted(first), 'the broken files are still reported');

  const chatId = 'language/chat/llama-2-7b-chat';
  {
    await using registry = await Registry.open({ store: 'sqlite', db: join(base.path, 'registry.db') });
    assert.equal((await registry.listVersions(chatId)).length, 1, 'an unchanged rescan makes no new version');
    await registry.updateModel(chatId, { category: { primary: 'MULTIMODAL', secondary: 'CREATIVE', specialization: 'TECHNICAL', manual: true } });
  }
  const chatDir = join(tree.models, 'language/chat/llama-2-7b-chat');
  writeFileSync(join(chatDir, 'README.md'), '# Llama 2 Chat\n\nRetrained for code review.\n');
  rmSync(join(tree.models, 'specialized'), { recursive: true });
  const third = mm(base.path, 'scan', ...roots).json as ScanReport;
  assert.deepEqual([third.counts.added, third.counts.updated, third.counts.missing], [0, 1, 1]);
  const all = await models(base.path);
  const chat = all.get(chatId)!;
  assert.equal(chat.description, 'Retrained for code review.');
  assert.deepEqual(chat.category, { primary: 'MULTIMODAL', secondary: 'CREATIVE', specialization: 'TECHNICAL', manual: true }, 'a manual category survives rescans');
  const bio = all.get('specialized/medical/biogpt-large')!;
  assert.equal(bio.status, 'missing', 'vanished files mark the model missing; it is not deleted');

  const ok = mm(base.path, 'validate', chatId);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((ok.json as ValidationReport).ok, true);
  const byPath = mm(base.path, 'validate', chatDir);
  assert.equal(byPath.status, 0, byPath.stderr);
  assert.equal((byPath.json as ValidationReport).modelId, chatId, 'a model is validated by its folder too');

  truncateSync(join(chatDir, 'model-00002-of-00002.safetensors'), 200);
  const bad = mm(base.path, 'validate', chatId);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /failed validation/);
  const checks = new Map((bad.json as ValidationReport).checks.map((c) => [c.name, c]));
  assert.equal(checks.get('headers match file sizes')?.ok, false);
  assert.match(checks.get('headers match file sizes')!.message, /model-00002-of-00002/);
  assert.equal(checks.get('sizes as registered')?.ok, false);

  unlinkSync(join(tree.models, 'language/reasoning/mixtral/mixtral-00002-of-00002.gguf'));
  const shards = mm(base.path, 'validate', 'language/reasoning/mixtral/mixtral').json as ValidationReport;
  assert.equal(shards.checks.find((c) => c.name === 'shards complete')?.ok, false);
  assert.equal(shards.checks.find((c) => c.name === 'files present')?.ok, false);

  unlinkSync(join(tree.models, 'checkpoints/tiny-00002-of-00002.safetensors'));
  const tiny = mm(base.path, 'validate', 'checkpoints/tiny').json as ValidationReport;
  assert.match(tiny.checks.find((c) => c.name === 'shards complete' && !c.ok)?.message ?? '', /1 of 2 shards missing/, JSON.stringify(tiny.checks));

  const ollama = mm(base.path, 'validate', 'ollama/llama3:8b').json as ValidationReport;
  assert.equal(ollama.ok, true, JSON.stringify(ollama.checks));
  // An HF cache snapshot's files are links into the repo's blobs/: inside the model's folder.
  const cached = mm(base.path, 'validate', 'acme/tiny-llama').json as ValidationReport;
  assert.equal(cached.ok, true, JSON.stringify(cached.checks));

  const unknown = mm(base.path, 'validate', 'no/such-model');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /MODEL_NOT_FOUND/);
});

test('mm scan without roots scans ./models, the HF cache and the Ollama store the environment names', async () => {
  using base = tempDir();
  const tree = buildTree(base.path);
  const run = mmWithEnv(base.path, { HF_HUB_CACHE: tree.hfCache, OLLAMA_MODELS: tree.ollama }, 'scan');
  assert.equal(run.status, 0, run.stderr);
  const report = run.json as ScanReport;
  assert.deepEqual(report.roots, [tree.models, tree.hfCache, tree.ollama], 'LM Studio is left out: its folder does not exist');
  assert.deepEqual(report.modelIds, GOOD);
});
