/**
 * Pull benchmark, against the hub stand-in on 127.0.0.1 with every connection capped at 50 MB/s
 * (as a CDN caps one stream: the cap is what parallel ranges win against; on loopback nothing
 * else limits). In the same run:
 *
 *   1. baseline: a plain single-stream `fetch` of a 2 GiB LFS file piped to a file;
 *   2. `pullModel` of the same file into an empty HF cache (ranges, sha256 check, layout);
 *      each in its own process, so its peak RSS and CPU time are its own;
 *   3. `mm embed <hub-id>` on an empty cache until the first embedding (a MiniLM-shaped ONNX
 *      model, ~90 MB), split into pull (the hub's first request to its last byte) and load
 *      (the runtime's measured load time).
 *
 * The stand-in runs in a child process too. Run: npm run bench:pull [-- --runs N] (MM_BENCH_PULL_GB to change the size).
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { pullModel } from '../src/hub/index.js';
// Each role imports what it uses, so the peak RSS of the pull and of the baseline is theirs alone.

const MB = 1e6;
const CAP = 50 * MB;
const BIG_BYTES = Math.round(Number(process.env.MM_BENCH_PULL_GB ?? 2) * 1024 ** 3);
const SHA = 'b'.repeat(40);
const SELF = fileURLToPath(import.meta.url);
const BIN = fileURLToPath(new URL('../../bin/mm.js', import.meta.url));

interface Measured {
  seconds: number;
  bytes: number;
  peakRssMB: number;
  cpuSeconds: number;
}

/** What a child process measured of itself. */
function measured(started: number, bytes: number): Measured {
  const usage = process.resourceUsage();
  return { seconds: (performance.now() - started) / 1000, bytes, peakRssMB: usage.maxRSS / 1024, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 };
}

/** Child: the hub stand-in, answering `{stats: repo}` with the first request and last byte of a repo. */
async function runHub(modelDir: string): Promise<void> {
  const { startHubServer } = await import('../test/hub/hub-server.js');
  const { folderFiles, randomFile } = await import('../test/hub/pull-repos.js');
  const hub = await startHubServer([
    { id: 'bench/big', sha: SHA, files: { 'config.json': '{}', 'model.gguf': randomFile(BIG_BYTES, 16 * 1024 * 1024) } },
    { id: 'bench/embed', sha: SHA, pipelineTag: 'feature-extraction', files: folderFiles(modelDir) },
  ]);
  hub.rate = CAP;
  // Hash the files now, so no request waits on it.
  await fetch(`${hub.url}/api/models/bench/big/tree/main`).then((r) => r.arrayBuffer());
  await fetch(`${hub.url}/api/models/bench/embed/tree/main`).then((r) => r.arrayBuffer());
  process.on('message', (message: { stats: string; since: number }) => {
    const mine = hub.requests.filter((r) => r.path.includes(message.stats) && r.at >= message.since);
    process.send?.({ first: Math.min(...mine.map((r) => r.at)), last: Math.max(...mine.map((r) => r.doneAt ?? r.at)) });
  });
  process.send?.({ url: hub.url, cdnUrl: hub.cdnUrl });
}

/** Child: the baseline, one stream to a file. */
async function runBaseline(url: string, out: string): Promise<void> {
  const started = performance.now();
  const response = await fetch(`${url}/bench/big/resolve/main/model.gguf`);
  if (!response.ok || !response.body) throw new Error(`baseline: HTTP ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(out));
  process.send?.(measured(started, BIG_BYTES));
}

/** Child: the pull. */
async function runPull(url: string, cache: string): Promise<void> {
  const started = performance.now();
  const config = loadConfig({ HF_ENDPOINT: url, HF_HUB_CACHE: cache, MM_HOME: join(cache, 'mm') });
  const result = await pullModel('bench/big', { config });
  process.send?.(measured(started, result.totalBytes));
}

function child(args: string[]): { process: ChildProcess; next: <T>() => Promise<T> } {
  const proc = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    process: proc,
    next: <T>() => new Promise<T>((resolve, reject) => {
      proc.once('message', (m) => resolve(m as T));
      proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
    }),
  };
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => (error ? reject(new Error(stderr || String(error))) : resolve(stdout))));
}

const mbps = (m: Measured) => m.bytes / MB / m.seconds;

async function main(): Promise<void> {
  const { Registry } = await import('../src/registry/index.js');
  const { writeTestModel } = await import('../src/testmodels/index.js');
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] ?? 1) || 1;
  const work = join(tmpdir(), 'mm-bench-pull');
  rmSync(work, { recursive: true, force: true });
  const modelDir = join(tmpdir(), 'mm-bench-models', 'onnx-embedding-bench');
  if (!existsSync(join(modelDir, 'README.md'))) await writeTestModel({ format: 'onnx', task: 'embedding', out: modelDir, size: 'bench' });
  const hub = child(['--hub', modelDir]);
  const { url } = await hub.next<{ url: string }>();
  process.stdout.write(`hub stand-in at ${url}, each connection capped at ${CAP / MB} MB/s; file ${(BIG_BYTES / 1024 ** 3).toFixed(2)} GiB\n\n`);
  try {
    for (let run = 1; run <= runs; run++) {
      const dir = join(work, `run-${run}`);
      const baseline = await child(['--baseline', url, join(dir, 'baseline.bin')]).next<Measured>();
      rmSync(join(dir, 'baseline.bin'), { force: true });
      const pulled = await child(['--pull', url, join(dir, 'hub')]).next<Measured>();
      rmSync(join(dir, 'hub'), { recursive: true, force: true });

      const env = { ...process.env, MM_HOME: join(dir, 'mm'), HF_HUB_CACHE: join(dir, 'embed-hub'), HF_ENDPOINT: url, NODE_NO_WARNINGS: '1' };
      const since = Date.now();
      const started = performance.now();
      await exec(process.execPath, [BIN, 'embed', 'bench/embed', 'hello world', '--json', '--device', 'cpu'], env);
      const total = (performance.now() - started) / 1000;
      hub.process.send({ stats: '/bench/embed/', since });
      const { first, last } = await hub.next<{ first: number; last: number }>();
      const config = loadConfig(env);
      const registry = await Registry.open({ config });
      const load = ((await registry.getModel('bench/embed'))?.measured?.loadTimeMs ?? NaN) / 1000;
      await registry.close();
      const pull = (last - first) / 1000;
      rmSync(dir, { recursive: true, force: true });

      process.stdout.write([
        `run ${run}`,
        `  baseline (1 stream):   ${mbps(baseline).toFixed(0)} MB/s, peak RSS ${baseline.peakRssMB.toFixed(0)} MB, CPU ${(baseline.cpuSeconds / (baseline.bytes / 1024 ** 3)).toFixed(2)} s/GiB`,
        `  pull (ranges+sha256):  ${mbps(pulled).toFixed(0)} MB/s = ${(mbps(pulled) / mbps(baseline)).toFixed(2)}x the baseline, peak RSS ${pulled.peakRssMB.toFixed(0)} MB, CPU ${(pulled.cpuSeconds / (pulled.bytes / 1024 ** 3)).toFixed(2)} s/GiB, ${pulled.seconds.toFixed(1)} s`,
        `  mm embed <hub-id>, empty cache -> first embedding: ${total.toFixed(2)} s = pull ${pull.toFixed(2)} s + load ${load.toFixed(2)} s + the rest (process start, registry, embedding) ${(total - pull - load).toFixed(2)} s`,
        '',
      ].join('\n'));
    }
  } finally {
    hub.process.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

const role = process.argv[2];
if (role === '--hub') await runHub(process.argv[3]!);
else if (role === '--baseline') {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(process.argv[4]!, '..'), { recursive: true });
  await runBaseline(process.argv[3]!, process.argv[4]!);
  process.exit(0);
} else if (role === '--pull') {
  await runPull(process.argv[3]!, process.argv[4]!);
  process.exit(0);
} else await main();
