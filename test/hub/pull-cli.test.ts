/**
 * `mm pull`, and `mm embed` / `mm generate` pulling on first use, as a user runs them: the compiled
 * CLI in child processes, against the hub stand-in on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runMm } from '../helpers/mm-cli.js';
import { tempDir } from '../helpers/tmp.js';
import { fileHashes, type HubFile } from './hub-content.js';
import { startHubServer, type HubServer } from './hub-server.js';
import { llamaTensors, safetensorsFile, TINY_LLAMA_CONFIG } from './model-files.js';
import { generatedModel, randomFile } from './pull-repos.js';

const BIN = fileURLToPath(new URL('../../../bin/mm.js', import.meta.url));
const SHA = '3'.repeat(40);
const MB = 1024 * 1024;

/** `mm` with only PATH from this process's environment: no HF_* variable of the machine leaks in. */
const mm = (args: string[], env: Record<string, string>) => runMm(args, { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env });

let hub: HubServer;
let embed: Record<string, HubFile>;
const big = randomFile(16 * MB);
const scratch = tempDir('mm-pull-cli-models-');

before(async () => {
  embed = await generatedModel(scratch.path, 'onnx', 'embedding');
  const llama = await generatedModel(scratch.path, 'gguf', 'text_generation');
  hub = await startHubServer([
    { id: 'acme/tiny-embed', sha: SHA, pipelineTag: 'feature-extraction', files: embed },
    { id: 'acme/tiny-llama', sha: SHA, pipelineTag: 'text-generation', files: llama },
    { id: 'acme/big', sha: SHA, files: { 'config.json': '{}', 'model.gguf': big } },
    { id: 'acme/gated', sha: SHA, gated: true, files: { 'model.gguf': randomFile(MB) } },
    { id: 'acme/safetensors-only', sha: SHA, files: { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG), 'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)) } },
  ]);
});
after(async () => {
  await hub.close();
  scratch[Symbol.dispose]();
});

function envFor(dir: string): { MM_HOME: string; HF_HUB_CACHE: string; HF_ENDPOINT: string } {
  return { MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: hub.url };
}

describe('mm pull', () => {
  it('pulls and registers a model; mm list shows it and mm embed runs it without the hub', async () => {
    using tmp = tempDir();
    const env = envFor(tmp.path);
    const pulled = await mm(['pull', 'acme/tiny-embed', '--json'], env);
    assert.equal(pulled.code, 0, pulled.stderr);
    const outcome = JSON.parse(pulled.stdout) as { modelId: string; action: string; commit: string; files: { path: string; sha256: string; state: string }[] };
    assert.deepEqual([outcome.modelId, outcome.action, outcome.commit], ['acme/tiny-embed', 'added', SHA]);
    assert.equal(outcome.files.find((f) => f.path === 'onnx/model.onnx')?.sha256, fileHashes(embed['onnx/model.onnx']!).sha256);
    const listed = await mm(['list', '--json'], env);
    assert.match(listed.stdout, /acme\/tiny-embed/);
    const requests = hub.requests.length;
    const embedded = await mm(['embed', 'acme/tiny-embed', 'hello', '--device', 'cpu', '--json'], env);
    assert.equal(embedded.code, 0, embedded.stderr);
    assert.equal((JSON.parse(embedded.stdout) as { embeddings: number[][] }).embeddings.length, 1);
    assert.equal(hub.requests.length, requests, 'the pulled model ran without asking the hub');
    const again = await mm(['pull', 'acme/tiny-embed'], env);
    assert.match(again.stdout, /0 B downloaded/);
  });

  it('mm embed and mm generate pull a hub id on first use', async () => {
    using tmp = tempDir();
    const env = envFor(tmp.path);
    const embedded = await mm(['embed', 'acme/tiny-embed', 'hello', 'world', '--device', 'cpu', '--json'], env);
    assert.equal(embedded.code, 0, embedded.stderr);
    assert.equal((JSON.parse(embedded.stdout) as { embeddings: number[][] }).embeddings.length, 2);
    const generated = await mm(['generate', 'acme/tiny-llama', 'Once upon', '--max-tokens', '3', '--device', 'cpu', '--json'], env);
    assert.equal(generated.code, 0, generated.stderr);
    assert.ok((JSON.parse(generated.stdout) as { tokens: number }).tokens > 0);
  });

  it('--dry-run lists files and bytes and fetches nothing', async () => {
    using tmp = tempDir();
    const env = envFor(tmp.path);
    const before = hub.sentBytes('model.gguf');
    const run = await mm(['pull', 'acme/big', '--dry-run'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /model\.gguf\s+16(\.0)? MiB\s+to download/);
    assert.match(run.stdout, /2 files, 16(\.0)? MiB in all/);
    assert.equal(hub.sentBytes('model.gguf'), before);
    assert.equal(existsSync(env.HF_HUB_CACHE), false);
  });

  it('two processes pulling one model download each byte once and both succeed', async () => {
    using tmp = tempDir();
    const env = envFor(tmp.path);
    hub.rate = 4 * MB;
    const before = hub.sentBytes('model.gguf');
    try {
      const [a, b] = await Promise.all([mm(['pull', 'acme/big', '--json'], env), mm(['pull', 'acme/big', '--json'], env)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
    } finally {
      hub.rate = undefined;
    }
    assert.equal(hub.sentBytes('model.gguf') - before, 16 * MB);
  });

  it('Ctrl-C leaves a resumable .incomplete (exit 130), and the next pull resumes from it', async () => {
    using tmp = tempDir();
    const env = envFor(tmp.path);
    hub.rate = 2 * MB;
    const before = hub.sentBytes('model.gguf');
    const child = spawn(process.execPath, [BIN, 'pull', 'acme/big'], { env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    await hub.waitForBytes('model.gguf', before + 4 * MB);
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    hub.rate = undefined;
    assert.match(stderr, /\[INTERRUPTED\]/);
    const blobs = join(env.HF_HUB_CACHE, 'models--acme--big', 'blobs');
    assert.ok(readdirSync(blobs).some((n) => n.endsWith('.incomplete')));
    assert.equal(existsSync(join(env.HF_HUB_CACHE, 'models--acme--big', 'snapshots')), false);

    const first = hub.requests.length;
    const resumed = await mm(['pull', 'acme/big', '--json'], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const gets = hub.requests.slice(first).filter((r) => r.method === 'GET' && r.path.endsWith('/model.gguf') && r.bytesSent > 0);
    assert.ok(gets.every((r) => Number(/bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? 0) > 0), `resumed from byte 0: ${gets.map((r) => r.range).join(', ')}`);
  });

  it('fails with one coded line: AUTH_REQUIRED for a gated model, UNSUPPORTED_FORMAT naming the files a backend cannot run', async () => {
    using tmp = tempDir();
    const env = envFor(tmp.path);
    const gated = await mm(['pull', 'acme/gated'], env);
    assert.equal(gated.code, 1);
    assert.match(gated.stderr, /^mm: .*HF_TOKEN.* \[AUTH_REQUIRED\]\n$/);
    const unsupported = await mm(['pull', 'acme/safetensors-only', '--json'], env);
    assert.equal(unsupported.code, 1);
    assert.equal((JSON.parse(unsupported.stdout) as { error: { code: string } }).error.code, 'UNSUPPORTED_FORMAT');
    assert.match(unsupported.stderr, /model\.safetensors.*--include|--include.*model\.safetensors/);
  });
});
