/**
 * Load on the HTTP server, bounded in time: throughput and latency of the registry routes as
 * ratios of a /health baseline measured in the same run, the rate limit under overload (429,
 * never an error), and the server's memory across repeated rounds (it should stay flat).
 *
 * The server runs in a child process so the load generator does not share its event loop.
 * Run: npm run bench:server  (about 40 s; 2 connections per core is plenty on this machine).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { Registry, createServer, type ModelMetadataInput } from '../src/index.js';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const MODELS = 500;

interface ServeMessage { address: string }

/** Child side: a server over a fresh sqlite registry of MODELS models. */
async function serve(rateLimitMax: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-server-'));
  const registry = await Registry.open({ store: 'sqlite', db: join(dir, 'registry.db') });
  const models: ModelMetadataInput[] = Array.from({ length: MODELS }, (_, i) => ({
    modelId: `org/model-${String(i).padStart(4, '0')}`, modelType: i % 3 ? 'decoder_only' : 'embedding_model', architecture: 'LlamaForCausalLM',
    format: i % 2 ? 'gguf' : 'onnx', parameterCount: (i + 1) * 10_000_000, tags: ['bench', `t${i % 7}`], description: 'a model for the server benchmark',
    inputs: [{ name: 'text', dataType: 'TEXT' }], outputs: [{ name: 'out', dataType: i % 3 ? 'TEXT' : 'EMBEDDINGS' }],
  }));
  await registry.addModels(models);
  const app = await createServer({ registry, rateLimit: rateLimitMax > 0 ? { max: rateLimitMax, windowMs: 60_000 } : false });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ address } satisfies ServeMessage);
  process.on('disconnect', () => {
    void app.close().then(() => registry.close()).then(() => rmSync(dir, { recursive: true, force: true })).then(() => process.exit(0));
  });
}

function startServer(rateLimitMax: number): Promise<{ child: ChildProcess; address: string }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', String(rateLimitMax)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, address: (m as ServeMessage).address }));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

async function rss(address: string): Promise<number> {
  const res = (await (await fetch(`${address}/api/system/resources`)).json()) as { process: { rssBytes: number } };
  return res.process.rssBytes;
}

async function load(url: string, connections = CONNECTIONS): Promise<Result> {
  return autocannon({ url, connections, duration: DURATION_S, timeout: 10 });
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function row(name: string, r: Result, baseline: Result | undefined): string {
  const ratio = baseline ? (r.requests.average / baseline.requests.average).toFixed(2) : '1.00';
  return `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s  x${ratio.padEnd(5)} p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  2xx ${String(r['2xx']).padStart(6)}  non2xx ${String(r.non2xx).padStart(5)}  errors ${r.errors + r.timeouts}`;
}

async function main(): Promise<void> {
  console.log(`server bench: ${MODELS} models in sqlite, ${CONNECTIONS} connections, ${DURATION_S} s per run, 127.0.0.1`);
  const { child, address } = await startServer(0);
  try {
    const health = await load(`${address}/health`);
    console.log(row('GET /health (baseline)', health, undefined));
    const rssBefore = await rss(address);
    const rounds: number[] = [];
    let list: Result | undefined;
    for (let i = 0; i < 3; i++) {
      list = await load(`${address}/api/models?limit=20&format=gguf`);
      rounds.push(await rss(address));
    }
    console.log(row('GET /api/models?limit=20&format=gguf', list!, health));
    console.log(row('GET /api/models/org/model-0042', await load(`${address}/api/models/org/model-0042`), health));
    console.log(row('GET /api/search?q=bench t3', await load(`${address}/api/search?q=bench%20t3&limit=10`), health));
    const errors = (list?.errors ?? 0) + (list?.timeouts ?? 0);
    console.log(`memory (server RSS): before ${mb(rssBefore)}, after each list round ${rounds.map(mb).join(', ')}; growth round 1 -> 3: ${(((rounds[2]! - rounds[0]!) / rounds[0]!) * 100).toFixed(1)}%`);
    console.log(`errors below the limits: ${errors}`);
  } finally {
    child.disconnect();
  }

  const limit = 2000;
  const limited = await startServer(limit);
  try {
    const over = await load(`${limited.address}/api/models/org/model-0042`);
    const by = Object.entries(over.statusCodeStats).map(([code, s]) => `${code}: ${s.count}`).join(', ');
    console.log(row(`overload, rate limit ${limit}/min`, over, undefined));
    console.log(`  statuses: ${by}; errors ${over.errors + over.timeouts} (expected: ${limit} x 200, the rest 429, no errors)`);
  } finally {
    limited.child.disconnect();
  }
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3] ?? 0));
else await main();
