/**
 * `mm serve` as a user runs it: a real process on 127.0.0.1, with and without API keys.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createInterface } from 'node:readline';
import { tempDir } from '../helpers/tmp.js';

const MM = join(process.cwd(), 'bin', 'mm.js');

/** Starts `mm serve --json`, returns its URL from the one JSON line it prints, and a stop function. */
async function serve(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  // The roots stay inside the test's folder, so discovery never scans this machine's own model stores.
  const roots = ['--model-root', join(env.MM_HOME!, 'models')];
  const child = spawn(process.execPath, [MM, '--json', 'serve', '--port', '0', ...roots, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  let json = '';
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      json += line;
      try {
        resolve((JSON.parse(json) as { url: string }).url);
      } catch {
        // the document spans several lines; keep reading
      }
    });
    child.once('exit', (code) => reject(new Error(`mm serve exited ${code}: ${stderr}`)));
  });
  return {
    url,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** Polls `url` until it answers `status` (the server checks its keys file once a second). */
async function waitForStatus(url: string, headers: Record<string, string>, status: number): Promise<void> {
  let last = 0;
  for (let i = 0; i < 100; i++) {
    last = (await fetch(url, { headers })).status;
    if (last === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${url} still answers ${last}, not ${status}`);
}

test('mm serve runs open on 127.0.0.1, serves the UI, the API and /docs, and stops on SIGTERM', async () => {
  using home = tempDir();
  const env = { ...process.env, MM_HOME: home.path, MM_API_KEYS_FILE: '' };
  const server = await serve(env);
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/models`)).status, 200);
    assert.match(await (await fetch(`${server.url}/`)).text(), /Model Manager/);
    assert.equal((await fetch(`${server.url}/docs/json`)).status, 200);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { discovery: boolean; runtime: boolean };
    assert.deepEqual([health.discovery, health.runtime], [true, true]);
    assert.equal((await fetch(`${server.url}/api/ps`)).status, 200);
    const status = (await (await fetch(`${server.url}/api/models/discovery/status`)).json()) as { roots: string[] };
    assert.deepEqual(status.roots, [join(home.path, 'models')]);
  } finally {
    await server.stop();
  }
});

test('mm serve refuses a public address without keys; with --auth it needs a key', async () => {
  using home = tempDir();
  const env = { ...process.env, MM_HOME: home.path, MM_API_KEYS_FILE: '' };
  const refused = spawnSync(process.execPath, [MM, 'serve', '--host', '0.0.0.0', '--port', '0'], { env, encoding: 'utf8' });
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /without API keys/);

  const noKeys = spawnSync(process.execPath, [MM, 'serve', '--auth', '--port', '0'], { env, encoding: 'utf8' });
  assert.notEqual(noKeys.status, 0);

  const added = spawnSync(process.execPath, [MM, '--json', 'serve', 'keys', 'add', 'ada', '--role', 'admin'], { env, encoding: 'utf8' });
  assert.equal(added.status, 0, added.stderr);
  const { key } = JSON.parse(added.stdout) as { key: string };
  const listed = spawnSync(process.execPath, [MM, '--json', 'serve', 'keys', 'list'], { env, encoding: 'utf8' });
  assert.deepEqual((JSON.parse(listed.stdout) as { keys: { user: string }[] }).keys.map((k) => k.user), ['ada']);
  assert.ok(!listed.stdout.includes('sha256'), 'hashes are not listed');

  const server = await serve(env, ['--auth']);
  try {
    assert.equal((await fetch(`${server.url}/api/models`)).status, 401);
    assert.equal((await fetch(`${server.url}/api/models`, { headers: { authorization: `Bearer ${key}` } })).status, 200);

    // Keys added and removed while it runs take effect without a restart.
    const more = spawnSync(process.execPath, [MM, '--json', 'serve', 'keys', 'add', 'bob'], { env, encoding: 'utf8' });
    const bob = { authorization: `Bearer ${(JSON.parse(more.stdout) as { key: string }).key}` };
    await waitForStatus(`${server.url}/api/models`, bob, 200);
    spawnSync(process.execPath, [MM, 'serve', 'keys', 'remove', 'bob'], { env, encoding: 'utf8' });
    await waitForStatus(`${server.url}/api/models`, bob, 401);
    assert.equal((await fetch(`${server.url}/api/models`, { headers: { authorization: `Bearer ${key}` } })).status, 200, 'the other key still works');
  } finally {
    await server.stop();
  }
});

test('a key made without --rate-limit follows the limit mm serve is started with; one made with it keeps its own', async () => {
  using home = tempDir();
  const env = { ...process.env, MM_HOME: home.path, MM_API_KEYS_FILE: '' };
  const add = (...args: string[]) => {
    const run = spawnSync(process.execPath, [MM, '--json', 'serve', 'keys', 'add', ...args], { env, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return { authorization: `Bearer ${(JSON.parse(run.stdout) as { key: string }).key}` };
  };
  const plain = add('pat');
  const own = add('oli', '--rate-limit', '4');
  const records = (JSON.parse(readFileSync(join(home.path, 'api-keys.json'), 'utf8')) as { keys: { user: string; rateLimitPerMinute?: number }[] }).keys;
  assert.deepEqual(records.map((r) => [r.user, r.rateLimitPerMinute]), [['pat', undefined], ['oli', 4]]);
  const zero = spawnSync(process.execPath, [MM, 'serve', 'keys', 'add', 'zed', '--rate-limit', '0'], { env, encoding: 'utf8' });
  assert.notEqual(zero.status, 0);
  assert.match(zero.stderr, /^mm: .*rateLimitPerMinute.* \[INVALID_ARGUMENT\]\n$/);

  const server = await serve(env, ['--auth', '--rate-limit', '2', '--no-discovery', '--no-runtime']);
  try {
    const statuses = async (headers: Record<string, string>, n: number) => {
      const seen = [];
      for (let i = 0; i < n; i++) seen.push((await fetch(`${server.url}/api/models`, { headers })).status);
      return seen;
    };
    assert.deepEqual(await statuses(plain, 3), [200, 200, 429], 'the server\'s limit of 2 applies');
    assert.deepEqual(await statuses(own, 5), [200, 200, 200, 200, 429], 'the key\'s own limit of 4 applies');
  } finally {
    await server.stop();
  }
});
