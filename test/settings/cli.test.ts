/**
 * Settings through the CLI as a user runs it: `$MM_HOME/settings.yaml` or `--settings`, the
 * environment and `--set`, `mm config show`, a configured name in `mm embed` / `mm generate`,
 * and a bad settings file stopping every runtime command (`mm serve` too) with one line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTestModel } from '../../src/testmodels/index.js';
import { runMm } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('mm-settings-cli-');
const home = join(dir.path, 'home');
const settingsFile = join(home, 'settings.yaml');
const env = { ...process.env, MM_HOME: home, MM_STORE: 'sqlite', MM_DB: '', MM_SETTINGS: '', NODE_NO_WARNINGS: '1' };

const mm = (args: string[], extraEnv: Record<string, string> = {}) => runMm(args, { ...env, ...extraEnv });

before(async () => {
  mkdirSync(home, { recursive: true });
  await writeTestModel({ format: 'onnx', task: 'embedding', out: join(home, 'models', 'embedder') });
  await writeTestModel({ format: 'gguf', task: 'text_generation', out: join(home, 'models', 'writer') });
  writeFileSync(settingsFile, [
    'gpu_memory_fraction: 0.5',
    'models:',
    '  embedding:',
    '    type: embedding',
    '    local_path: ./models/embedder',
    '  writer:',
    '    type: text_generation',
    '    local_path: ./models/writer',
    '    max_output_length: 3',
    '',
  ].join('\n'));
});
after(() => dir[Symbol.dispose]());

test('mm config show lists every setting with its source: default, file and line, env, flag', async () => {
  const { stdout, code, stderr } = await mm(['config', 'show', '--json', '--set', 'max_queue=9'], { MM_MODELS_EMBEDDING_DEVICE: 'cpu' });
  assert.equal(code, 0, stderr);
  const shown = JSON.parse(stdout) as { file: string; settings: { maxQueue: number }; entries: { key: string; value: unknown; source: string; line?: number; name?: string }[] };
  assert.equal(shown.file, settingsFile);
  assert.equal(shown.settings.maxQueue, 9);
  const entry = (key: string) => shown.entries.find((e) => e.key === key);
  assert.deepEqual(entry('gpuMemoryFraction'), { key: 'gpuMemoryFraction', value: 0.5, source: 'file', file: settingsFile, line: 1 });
  assert.deepEqual(entry('models.embedding.localPath'), { key: 'models.embedding.localPath', value: join(home, 'models', 'embedder'), source: 'file', file: settingsFile, line: 5 });
  assert.deepEqual(entry('models.embedding.device'), { key: 'models.embedding.device', value: 'cpu', source: 'env', name: 'MM_MODELS_EMBEDDING_DEVICE' });
  assert.deepEqual(entry('maxQueue'), { key: 'maxQueue', value: 9, source: 'flag', name: '--set max_queue' });
  assert.deepEqual(entry('sharing.maxSharedModels'), { key: 'sharing.maxSharedModels', value: 3, source: 'default' });

  const human = await mm(['config', 'show']);
  assert.equal(human.code, 0);
  assert.match(human.stdout, new RegExp(`gpuMemoryFraction +0\\.5 +file ${settingsFile}:1\\n`));
  assert.match(human.stdout, /sharing\.maxSharedModels +3 +default\n/);
  assert.match(human.stderr, new RegExp(`settings file: ${settingsFile}`));
});

test('a configured name works in mm embed and mm generate, with its own settings', async () => {
  const embedded = await mm(['embed', 'embedding', 'hello world', '--json']);
  assert.equal(embedded.code, 0, embedded.stderr);
  const vectors = JSON.parse(embedded.stdout) as { model: string; embeddings: number[][] };
  assert.equal(vectors.model, 'embedding');
  assert.equal(vectors.embeddings.length, 1);

  const generated = await mm(['generate', 'writer', 'Once', '--json']);
  assert.equal(generated.code, 0, generated.stderr);
  const text = JSON.parse(generated.stdout) as { tokens: number; finishReason: string };
  // max_output_length 3 of the configured model, not the command's own default of 128.
  assert.deepEqual([text.tokens, text.finishReason], [3, 'length']);
});

test('a bad settings file stops every runtime command with one line naming the setting and the line', async () => {
  const bad = join(dir.path, 'bad.yaml');
  writeFileSync(bad, 'models:\n  embedding:\n    type: embedding\n    name: org/embed\n    device: gpux\n');
  const expected = new RegExp(`^mm: invalid settings: ${bad}:5: models\\.embedding\\.device: device "gpux" is not valid: use cpu, gpu, cuda:N or auto \\[INVALID_CONFIG\\]\\n$`);
  for (const args of [['embed', 'embedding', 'hi'], ['generate', 'writer', 'hi'], ['ps'], ['release', 'embedding'], ['config', 'show']]) {
    const run = await mm([...args, '--settings', bad]);
    assert.equal(run.code, 1, args.join(' '));
    assert.match(run.stderr, expected, args.join(' '));
  }
  // The server does not start half-configured: it never listens.
  const serve = await mm(['serve', '--port', '0', '--settings', bad, '--json']);
  assert.equal(serve.code, 1);
  assert.match(serve.stderr, expected);
  const reply = JSON.parse(serve.stdout) as { url?: string; error?: { code: string } };
  assert.deepEqual([reply.url, reply.error?.code], [undefined, 'INVALID_CONFIG']);

  const badEnv = await mm(['embed', 'embedding', 'hi'], { MM_SHARING_MAX_SHARED_MODELS: 'many' });
  assert.equal(badEnv.code, 1);
  assert.match(badEnv.stderr, /^mm: invalid settings: MM_SHARING_MAX_SHARED_MODELS: sharing\.maxSharedModels: .* \[INVALID_CONFIG\]\n$/);
});
