/**
 * `mm embed`, `mm generate`, `mm ps`, `mm release` as a user runs them: the compiled CLI in a
 * child process, a registry under a temporary MM_HOME, generated models.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runMm } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTinyModels, type TinyModels } from './fixtures.js';

const dir = tempDir('mm-runtime-cli-');
let models: TinyModels;
// No pulls: a hub id that is not on disk must not send these tests to the internet (test/hub/pull-cli.test.ts pulls from a stand-in).
const env = { ...process.env, MM_HOME: join(dir.path, 'home'), MM_STORE: 'sqlite', MM_DB: '', NODE_NO_WARNINGS: '1', MM_AUTO_PULL: '0' };

const mm = (...args: string[]) => runMm(args, env);

before(async () => {
  models = await writeTinyModels(dir.path);
});
after(() => dir[Symbol.dispose]());

test('mm embed prints one vector per text, as JSON with --json', async () => {
  const { stdout, code } = await mm('embed', models.onnxEmbedding, 'hello world', 'second text', '--json');
  assert.equal(code, 0);
  const data = JSON.parse(stdout) as { embeddings: number[][]; dimensions: number };
  assert.equal(data.embeddings.length, 2);
  assert.equal(data.embeddings[0]!.length, data.dimensions);
  const human = await mm('embed', models.onnxEmbedding, 'hello world');
  // [CLS] hello world [SEP]: both words are whole in the generated WordPiece vocabulary.
  assert.match(human.stdout, /1 embedding\(s\), \d+ dimensions, 4 tokens/);
});

test('mm generate honours --max-tokens and --seed, and prints the text', async () => {
  const args = ['generate', models.ggufLlama, 'Once upon a time', '--max-tokens', '5', '--temperature', '0.7', '--seed', '3'];
  const first = await mm(...args, '--json');
  assert.equal(first.code, 0, first.stderr);
  const data = JSON.parse(first.stdout) as { generatedText: string; tokens: number; finishReason: string };
  assert.ok(data.tokens > 0 && data.tokens <= 5);
  const human = await mm(...args);
  assert.equal(human.stdout, `${data.generatedText}\n`);
  // The byte vocabulary makes one token per byte of the prompt, after BOS.
  assert.match(human.stderr, new RegExp(`^${data.tokens} tokens generated \\(prompt: ${1 + 'Once upon a time'.length} tokens\\), finish: (stop|length)`));
});

test('running a registered model by id records what the load measured in the registry', async () => {
  const record = join(dir.path, 'model.json');
  writeFileSync(record, JSON.stringify({ modelId: 'test/cli-bert', modelType: 'embedding_model', format: 'gguf', localPath: models.ggufEmbedding }));
  assert.equal((await mm('add', record)).code, 0);
  assert.equal((await mm('embed', 'test/cli-bert', 'measure me')).code, 0);
  const shown = JSON.parse((await mm('show', 'test/cli-bert', '--json')).stdout) as { measured?: { loadTimeMs: number; device: string; backend: string; throughput?: number } };
  assert.ok(shown.measured && shown.measured.loadTimeMs > 0);
  assert.equal(shown.measured.backend, 'llama-cpp');
  assert.ok((shown.measured.throughput ?? 0) > 0);
});

test('mm ps and mm release in a one-shot process say that models live in `mm serve`', async () => {
  const ps = await mm('ps', '--json');
  assert.equal(ps.code, 0);
  const listed = JSON.parse(ps.stdout) as { scope: string; models: unknown[]; note: string };
  assert.deepEqual([listed.scope, listed.models], ['process', []]);
  assert.match(listed.note, /mm serve/);
  const human = await mm('ps');
  assert.match(human.stdout, /no models loaded/);
  assert.match(human.stderr, /--server/);
  const released = await mm('release', models.onnxEmbedding);
  assert.equal(released.code, 0);
  assert.match(released.stdout, /was not loaded in this process/);
});

test('mm ps --server lists what a running server holds', async () => {
  // Stands in for `mm serve` (another area of the project): the reply shape of its GET /api/ps.
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/ps') {
      const since = new Date(Date.now() - 90_000).toISOString();
      res.end(JSON.stringify({ models: [{
        name: 'test/x', model: 'test/x', state: 'ready', backend: 'llama-cpp', device: 'cpu', workers: 2, refs: 1, size: 2048, queue: 1, running: 1,
        tasks: [{ task_type: 'text_generation', state: 'running', since, max_tokens: 32768 }, { task_type: 'text_generation', state: 'queued', since }],
        last_used_at: new Date().toISOString(), expires_at: null,
      }] }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no route' } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { stdout, code } = await mm('ps', '--server', url);
    assert.equal(code, 0);
    assert.match(stdout, /^NAME\s+STATE\s+BACKEND\s+DEVICE/);
    // RUNNING: one instance at work, on a generation running for 90 s.
    assert.match(stdout, /test\/x\s+ready\s+llama-cpp\s+cpu\s+2\s+1\s+2(\.0+)? KiB\s+1 \(9[0-9]s\)\s+1\s/);
    const release = await mm('release', 'test/x', '--server', url);
    assert.equal(release.code, 1);
    assert.match(release.stderr, /no route/);
  } finally {
    server.close();
  }
});

test('a model that does not exist is one line on stderr with its code, and a non-zero exit', async () => {
  const { stderr, code } = await mm('embed', 'nobody/nothing', 'text');
  assert.equal(code, 1);
  assert.equal(stderr.trim().split('\n').length, 1);
  assert.match(stderr, /\[MODEL_NOT_FOUND\]/);
});
