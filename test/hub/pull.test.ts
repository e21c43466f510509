/**
 * `pullModel` against the hub stand-in on 127.0.0.1: huggingface_hub's cache layout byte for byte,
 * the files a backend runs and no others, resume, verification, errors, and faults on demand.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Discovery, Registry, importFromHuggingFace, isModelManagerError, loadConfig, pullModel, type PullProgress } from '../../src/index.js';
import { tempDir } from '../helpers/tmp.js';
import { fileHashes, type HubFile } from './hub-content.js';
import { startHubServer, type HubServer } from './hub-server.js';
import { llamaTensors, safetensorsFile, TINY_LLAMA_CONFIG } from './model-files.js';
import { generatedModel, randomFile } from './pull-repos.js';

const SHA = '1'.repeat(40);
const TOKEN = 'hf_test_token';
const MB = 1024 * 1024;

let hub: HubServer;
let embed: Record<string, HubFile>;
let gguf: Record<string, HubFile>;
const big = randomFile(24 * MB);
const scratch = tempDir('mm-pull-models-');

before(async () => {
  embed = await generatedModel(scratch.path, 'onnx', 'embedding');
  const bert = await generatedModel(scratch.path, 'gguf', 'embedding');
  const weights = Object.entries(bert).find(([p]) => p.endsWith('.gguf'))![1];
  const other = Object.entries(await generatedModel(scratch.path, 'gguf', 'embedding', 2)).find(([p]) => p.endsWith('.gguf'))![1];
  gguf = { 'README.md': bert['README.md']!, 'config.json': bert['config.json']!, 'tiny-bert.Q4_K_M.gguf': weights, 'tiny-bert.Q8_0.gguf': other };
  hub = await startHubServer([
    { id: 'acme/tiny-embed', sha: SHA, pipelineTag: 'feature-extraction', files: { ...embed, 'onnx/model_quantized.onnx': Buffer.from('not the default variant'), 'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)) } },
    { id: 'acme/tiny-gguf', sha: SHA, files: gguf },
    { id: 'acme/big', sha: SHA, files: { 'config.json': '{}', 'model.gguf': big } },
    { id: 'acme/safetensors-only', sha: SHA, files: { 'config.json': JSON.stringify(TINY_LLAMA_CONFIG), 'model.safetensors': safetensorsFile(llamaTensors(TINY_LLAMA_CONFIG)) } },
    { id: 'acme/gated', sha: SHA, gated: true, files: { 'config.json': '{}', 'model.gguf': randomFile(2 * MB) } },
    { id: 'acme/huge', sha: SHA, files: { 'config.json': '{}', 'model.gguf': { header: Buffer.from('GGUF'), size: 2 ** 52 } } },
    { id: 'acme/traversal', sha: SHA, files: { '../../escape.gguf': Buffer.from('x') } },
  ], { token: TOKEN });
});
after(async () => {
  await hub.close();
  scratch[Symbol.dispose]();
});

function setup(dir: string, env: Record<string, string> = {}) {
  return loadConfig({ MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: hub.url, HF_HOME: join(dir, 'none'), ...env });
}

const repoDir = (config: ReturnType<typeof setup>, id: string) => join(config.hf.hubCache, `models--${id.replace('/', '--')}`);
const fileGets = (name: string) => hub.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/${name}`) && r.path.includes('/lfs/') || (r.method === 'GET' && r.path.endsWith(`/resolve/${SHA}/${name}`)));
const rangeStart = (r: { range?: string }) => Number(/bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? 0);

describe('pull: the cache layout of huggingface_hub', () => {
  it('writes blobs named by sha256 / git blob id, relative snapshot symlinks and refs/main, and only the files a backend runs', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    const result = await pullModel('acme/tiny-embed', { config });
    const repo = repoDir(config, 'acme/tiny-embed');
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), SHA, 'refs/main holds the commit, no newline');
    const snapshot = join(repo, 'snapshots', SHA);
    assert.equal(result.snapshot, snapshot);
    assert.equal(result.format, 'onnx');
    assert.equal(result.modelPath, join(snapshot, 'onnx', 'model.onnx'));
    const expected = ['README.md', 'config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json'];
    assert.deepEqual(result.files.map((f) => f.path), expected, 'no safetensors, no second ONNX variant');
    for (const path of expected) {
      const pointer = join(snapshot, ...path.split('/'));
      assert.ok(lstatSync(pointer).isSymbolicLink(), `${path} is a symlink`);
      const { sha256, gitOid } = fileHashes(embed[path]!);
      const blobName = path.endsWith('.onnx') ? sha256 : gitOid;
      assert.equal(readlinkSync(pointer), `${path.includes('/') ? '../' : ''}../../blobs/${blobName}`, `${path} links relatively to its blob`);
      assert.deepEqual(readFileSync(pointer), Buffer.isBuffer(embed[path]) ? embed[path] : Buffer.from(embed[path] as string), `${path} byte for byte`);
      assert.equal(result.files.find((f) => f.path === path)?.sha256, sha256);
    }
    assert.deepEqual(readdirSync(join(repo, 'blobs')).filter((n) => n.includes('.')), [], 'no .incomplete left behind');
  });

  it('is read back by the import and by discovery, offline', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    await pullModel('acme/tiny-embed', { config });
    const offline = setup(tmp.path, { HF_HUB_OFFLINE: '1' });
    await using registry = await Registry.open({ config: offline });
    const imported = await importFromHuggingFace(registry, 'acme/tiny-embed', { config: offline });
    assert.equal(imported.source, 'cache');
    assert.equal(imported.location, join(repoDir(config, 'acme/tiny-embed'), 'snapshots', SHA));
    await using scanned = await Registry.open({ store: 'sqlite', db: join(tmp.path, 'scan.db') });
    await using discovery = await Discovery.create({ registry: scanned, config: setup(tmp.path, { OLLAMA_MODELS: join(tmp.path, 'none'), LMSTUDIO_MODELS: join(tmp.path, 'none') }) });
    await discovery.refresh({ roots: [config.hf.hubCache] });
    assert.equal((await scanned.getModel('acme/tiny-embed'))?.format, 'onnx');
  });

  it('uses blobs a huggingface_hub download left in the cache, without fetching them again', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    // The layout Python's hf_hub_download leaves: blobs by etag, snapshot symlinks, refs/main.
    const repo = repoDir(config, 'acme/tiny-gguf');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    const weights = gguf['tiny-bert.Q4_K_M.gguf'] as Buffer;
    writeFileSync(join(repo, 'blobs', createHash('sha256').update(weights).digest('hex')), weights);
    hub.requests.length = 0;
    const result = await pullModel('acme/tiny-gguf', { config });
    assert.equal(result.files.find((f) => f.path === 'tiny-bert.Q4_K_M.gguf')?.state, 'cached');
    assert.equal(fileGets('tiny-bert.Q4_K_M.gguf').length, 0);
    assert.equal(result.variant, 'Q4_K_M');
    assert.equal(result.modelPath, join(repo, 'snapshots', SHA, 'tiny-bert.Q4_K_M.gguf'));
  });

  it('pulls the GGUF quantization named after the colon, any case', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    const result = await pullModel('acme/tiny-gguf:q8_0', { config });
    assert.deepEqual(result.files.map((f) => f.path), ['README.md', 'config.json', 'tiny-bert.Q8_0.gguf']);
    assert.equal(result.variant, 'Q8_0');
    await assert.rejects(pullModel('acme/tiny-gguf:Q2_K', { config }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT') && /Q4_K_M, Q8_0/.test(e.message));
  });

  it('lists files and bytes on a dry run and fetches nothing', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.requests.length = 0;
    const result = await pullModel('acme/big', { config, dryRun: true });
    assert.equal(result.totalBytes, 24 * MB + 2);
    assert.deepEqual(result.files.map((f) => [f.path, f.state]), [['config.json', 'missing'], ['model.gguf', 'missing']]);
    assert.equal(hub.requests.filter((r) => r.bytesSent > 0 && !r.path.startsWith('/api/')).length, 0);
    assert.equal(existsSync(config.hf.hubCache), false);
  });

  it('explains that safetensors weights need another runtime, and pulls them when asked with --include', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    await assert.rejects(pullModel('acme/safetensors-only', { config }), (e) => isModelManagerError(e, 'UNSUPPORTED_FORMAT') && /model\.safetensors/.test(e.message) && /--include/.test(e.message));
    const result = await pullModel('acme/safetensors-only', { config, include: ['*.safetensors'] });
    assert.deepEqual(result.files.map((f) => f.path), ['config.json', 'model.safetensors']);
    const excluded = await pullModel('acme/tiny-embed', { config, exclude: ['README.md'] });
    assert.ok(!excluded.files.some((f) => f.path === 'README.md'));
  });
});

describe('pull: robust', () => {
  it('resumes a dropped connection from the bytes already on disk', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.requests.length = 0;
    hub.faults.push({ file: 'model.gguf', kind: { dropAfter: 5 * MB }, times: 1 });
    const result = await pullModel('acme/big', { config, connections: 1, retryBaseMs: 1 });
    assert.equal(result.files.find((f) => f.path === 'model.gguf')?.sha256, fileHashes(big).sha256);
    const gets = fileGets('model.gguf');
    assert.equal(gets.length, 2);
    assert.ok(rangeStart(gets[1]!) > 0, `the second request asked for ${gets[1]!.range}, not the rest`);
  });

  for (const connections of [1, 4]) {
    it(`an interrupted pull leaves a resumable .incomplete and no snapshot; the next pull fetches only the rest (${connections} connection(s))`, async () => {
      using tmp = tempDir();
      const config = setup(tmp.path);
      hub.requests.length = 0;
      hub.rate = 2 * MB;
      const stop = new AbortController();
      const sentBefore = hub.sentBytes('model.gguf');
      let onDisk = 0;
      const onProgress = (e: PullProgress) => {
        if (e.file === 'model.gguf' && e.completed !== undefined) onDisk = e.completed;
      };
      const pulling = pullModel('acme/big', { config, connections, minSplitBytes: MB, signal: stop.signal, onProgress });
      await hub.waitForBytes('model.gguf', sentBefore + 3 * MB);
      stop.abort();
      await assert.rejects(pulling, (e) => isModelManagerError(e, 'INTERRUPTED'));
      hub.rate = undefined;
      const repo = repoDir(config, 'acme/big');
      const incomplete = join(repo, 'blobs', `${fileHashes(big).sha256}.incomplete`);
      assert.ok(existsSync(incomplete), 'the partial file stays');
      assert.equal(existsSync(join(repo, 'snapshots')), false, 'no snapshot points at a partial file');
      assert.equal(existsSync(join(repo, 'refs', 'main')), false);

      const firstPull = hub.requests.length;
      const result = await pullModel('acme/big', { config, connections, minSplitBytes: MB });
      assert.equal(result.files.find((f) => f.path === 'model.gguf')?.sha256, fileHashes(big).sha256);
      const resumed = hub.requests.slice(firstPull).filter((r) => r.method === 'GET' && r.path.endsWith('/model.gguf') && r.bytesSent > 0);
      assert.ok(resumed.length > 0);
      assert.ok(resumed.every((r) => rangeStart(r) > 0), `resumed requests: ${resumed.map((r) => r.range).join(', ')}`);
      // The bytes asked for again (ranges a split handed on overlap the range they came from: counted once).
      const asked = resumed.map((r) => /bytes=(\d+)-(\d+)/.exec(r.range!)!.slice(1).map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
      let refetched = 0;
      let reached = 0;
      for (const [from, to] of asked) {
        refetched += Math.max(0, to + 1 - Math.max(from, reached));
        reached = Math.max(reached, to + 1);
      }
      assert.ok(onDisk > 0 && refetched <= 24 * MB - onDisk, `the resumed pull asked for ${refetched} bytes, though ${onDisk} of ${24 * MB} were on disk`);
      assert.equal(existsSync(incomplete), false);
    });
  }

  it('deletes bytes that do not match their sha256, names the file, and links nothing', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.faults.push({ file: 'model.gguf', kind: { corrupt: true }, times: 100 });
    try {
      await assert.rejects(pullModel('acme/big', { config, connections: 1 }), (e) => isModelManagerError(e, 'CHECKSUM_MISMATCH') && /acme\/big\/model\.gguf/.test(e.message));
    } finally {
      hub.faults.length = 0;
    }
    const repo = repoDir(config, 'acme/big');
    assert.deepEqual(readdirSync(join(repo, 'blobs')).filter((n) => n.startsWith(fileHashes(big).sha256)), [], 'neither the blob nor the .incomplete is kept');
    assert.equal(existsSync(join(repo, 'snapshots')), false);
    const again = await pullModel('acme/big', { config });
    assert.equal(again.files.find((f) => f.path === 'model.gguf')?.state, 'downloaded');
  });

  it('hands the rest of a stalled range to fresh connections and finishes', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.requests.length = 0;
    // The range starting at 12 MiB sends 64 KiB, then nothing.
    hub.faults.push({ file: 'model.gguf', kind: { stallAfter: 64 * 1024 }, fromByte: 12 * MB, times: 1 });
    const result = await pullModel('acme/big', { config, connections: 4, minSplitBytes: 256 * 1024, stallTimeoutMs: 1500, retryBaseMs: 1 });
    assert.equal(result.files.find((f) => f.path === 'model.gguf')?.sha256, fileHashes(big).sha256);
    const stalled = fileGets('model.gguf').find((r) => r.bytesSent === 64 * 1024 && rangeStart(r) >= 12 * MB)!;
    const [from, to] = /bytes=(\d+)-(\d+)/.exec(stalled.range!)!.slice(1).map(Number) as [number, number];
    const handedOn = fileGets('model.gguf').filter((r) => rangeStart(r) > from + 64 * 1024 && rangeStart(r) <= to);
    assert.ok(handedOn.length > 0, 'part of the stalled range was fetched by another connection');
  });

  it('shares one download between concurrent pulls of a model in one process', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    const before = hub.sentBytes('model.gguf');
    const [a, b] = await Promise.all([pullModel('acme/big', { config }), pullModel('acme/big', { config })]);
    assert.equal(a.snapshot, b.snapshot);
    assert.equal(hub.sentBytes('model.gguf') - before, 24 * MB, 'each byte was fetched once');
  });

  it('reports progress per file that never goes backwards and ends at the total', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    const events: PullProgress[] = [];
    hub.faults.push({ file: 'model.gguf', kind: { dropAfter: 3 * MB }, times: 2 });
    await pullModel('acme/big', { config, connections: 4, minSplitBytes: MB, retryBaseMs: 1, onProgress: (e) => events.push(e) });
    const seen = new Map<string, number>();
    for (const e of events.filter((x) => x.status === 'downloading')) {
      assert.ok(e.completed! >= (seen.get(e.file!) ?? 0), `${e.file} went back from ${seen.get(e.file!)} to ${e.completed}`);
      seen.set(e.file!, e.completed!);
    }
    assert.equal(seen.get('model.gguf'), 24 * MB);
    assert.equal(events.at(-1)?.status, 'success');
  });

  it('checks free disk space against the total before fetching anything', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.requests.length = 0;
    await assert.rejects(pullModel('acme/huge', { config }), (e) => isModelManagerError(e, 'DISK_FULL') && /free/.test(e.message));
    assert.equal(hub.requests.filter((r) => !r.path.startsWith('/api/')).length, 0);
    assert.equal(existsSync(repoDir(config, 'acme/huge')), false);
  });

  it('refuses an ETag that would name a path instead of a blob', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.faults.push({ file: 'model.gguf', kind: { linkedEtag: '../../../escaped' }, times: 1 });
    await assert.rejects(pullModel('acme/big', { config }), (e) => isModelManagerError(e, 'HUB_UNREACHABLE') && /cannot name a blob/.test(e.message));
    assert.equal(existsSync(resolve(config.hf.hubCache, '..', 'escaped')), false);
    assert.equal(existsSync(resolve(config.hf.hubCache, '..', 'escaped.incomplete')), false);
  });

  it('refuses a listed file name that would leave the snapshot folder', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    await assert.rejects(pullModel('acme/traversal', { config }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
    assert.equal(existsSync(resolve(config.hf.hubCache, 'escape.gguf')), false);
  });
});

describe('pull: errors', () => {
  it('gated: AUTH_REQUIRED naming HF_TOKEN; with the token it pulls, and the token never goes to storage', async () => {
    using tmp = tempDir();
    await assert.rejects(pullModel('acme/gated', { config: setup(tmp.path) }), (e) => isModelManagerError(e, 'AUTH_REQUIRED') && /HF_TOKEN/.test(e.message));
    hub.requests.length = 0;
    await pullModel('acme/gated', { config: setup(tmp.path, { HF_TOKEN: TOKEN }) });
    const storage = hub.requests.filter((r) => r.path.startsWith('/lfs/'));
    assert.ok(storage.length > 0);
    assert.ok(storage.every((r) => r.authorization === undefined), 'no token sent to the storage host');
  });

  it('retries 429 and 503 answers, then succeeds; gives up with HUB_UNREACHABLE when they persist', async () => {
    using tmp = tempDir();
    const config = setup(tmp.path);
    hub.faults.push({ file: 'model.gguf', kind: { status: 429, retryAfter: '0' }, times: 2 }, { file: 'config.json', kind: { status: 503 }, times: 1 });
    await pullModel('acme/big', { config, retryBaseMs: 1 });
    assert.equal(hub.faults.reduce((n, f) => n + (f.times ?? 0), 0), 0, 'every fault was met');
    hub.faults.length = 0;
    hub.faults.push({ file: 'model.gguf', kind: { status: 503 }, times: 100 });
    try {
      await assert.rejects(pullModel('acme/gated', { config: setup(tmp.path, { HF_TOKEN: TOKEN, HF_HUB_CACHE: join(tmp.path, 'other') }), retries: 2, retryBaseMs: 1 }), (e) => isModelManagerError(e, 'HUB_UNREACHABLE') && /503/.test(e.message));
    } finally {
      hub.faults.length = 0;
    }
  });

  it('answers HUB_NOT_FOUND for an unknown repo, OFFLINE without a request when HF_HUB_OFFLINE is set, INVALID_ARGUMENT for a bad name', async () => {
    using tmp = tempDir();
    await assert.rejects(pullModel('acme/nope', { config: setup(tmp.path) }), (e) => isModelManagerError(e, 'HUB_NOT_FOUND'));
    hub.requests.length = 0;
    await assert.rejects(pullModel('acme/big', { config: setup(tmp.path, { HF_HUB_OFFLINE: '1' }) }), (e) => isModelManagerError(e, 'OFFLINE'));
    assert.equal(hub.requests.length, 0);
    await assert.rejects(pullModel('../etc/passwd', { config: setup(tmp.path) }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(pullModel('acme/big', { config: setup(tmp.path), revision: '../../../escape' }), (e) => isModelManagerError(e, 'INVALID_ARGUMENT'));
  });
});
