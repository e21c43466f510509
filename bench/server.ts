/**
 * Load on the HTTP server, bounded in time: throughput and latency of the registry routes and of
 * /v1/embeddings (a generated ONNX model on the real runtime) as ratios of a /health baseline
 * measured in the same run; above the queue limit (503 QUEUE_FULL) and the rate limit (429), never
 * an error; and the server's memory across repeated rounds (it should stay flat).
 *
 * The server runs in a child process so the load generator does not share its event loop.
 * Run: npm run bench:server  (about 70 s; 2 connections per core is plenty on this machine).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import { ModelManager, Registry, createServer, writeTestModel, type ModelMetadataInput } from '../src/index.js';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const MODELS = 500;

interface ServeMessage { address: string }

interface ServeOptions {
  /** Requests per minute; 0 for no limit. */
  rateLimitMax: number;
  /** Per-model queue of the runtime; 0 for no runtime. */
  maxQueue: number;
}

const EMBEDDER = 'bench/tiny-embed';

/** Child side: a server over a fresh sqlite registry of MODELS models (and a generated ONNX embedder when the runtime runs). */
async function serve({ rateLimitMax, maxQueue }: ServeOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-server-'));
  const registry = await Registry.open({ store: 'sqlite', db: join(dir, 'registry.db') });
  const models: ModelMetadataInput[] = Array.from({ length: MODELS }, (_, i) => ({
    modelId: `org/model-${String(i).padStart(4, '0')}`, modelType: i % 3 ? 'decoder_only' : 'embedding_model', architecture: 'LlamaForCausalLM',
    format: i % 2 ? 'gguf' : 'onnx', parameterCount: (i + 1) * 10_000_000, tags: ['bench', `t${i % 7}`], description: 'a model for the server benchmark',
    inputs: [{ name: 'text', dataType: 'TEXT' }], outputs: [{ name: 'out', dataType: i % 3 ? 'TEXT' : 'EMBEDDINGS' }],
  }));
  await registry.addModels(models);
  let runtime: ModelManager | undefined;
  if (maxQueue > 0) {
    const written = await writeTestModel({ format: 'onnx', task: 'embedding', out: join(dir, 'models', 'tiny-embed') });
    await registry.addModel({ modelId: EMBEDDER, modelType: 'embedding_model', format: 'onnx', localPath: written.path });
    // A small cache fills in the first round, so later rounds show whether anything else grows.
    runtime = await ModelManager.create({ registry, maxQueue, modelRoots: [join(dir, 'models')], embeddingCache: { maxEntries: 1000 } });
  }
  const app = await createServer({ registry, runtime, rateLimit: rateLimitMax > 0 ? { max: rateLimitMax, windowMs: 60_000 } : false });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.send?.({ address } satisfies ServeMessage);
  // RSS after a full collection, so rounds compare what is kept, not garbage not yet collected.
  process.on('message', (m) => {
    if (m !== 'rss') return;
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ rss: process.memoryUsage().rss });
  });
  process.on('disconnect', () => {
    void app.close().then(() => runtime?.shutdown()).then(() => registry.close()).then(() => rmSync(dir, { recursive: true, force: true })).then(() => process.exit(0));
  });
}

function startServer({ rateLimitMax, maxQueue }: ServeOptions): Promise<{ child: ChildProcess; address: string }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', String(rateLimitMax), String(maxQueue)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, address: (m as ServeMessage).address }));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

/** The server's RSS after a full garbage collection. */
function rss(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      const answer = m as { rss?: number };
      if (answer.rss === undefined) return;
      child.off('message', onMessage);
      resolve(answer.rss);
    };
    child.on('message', onMessage);
    child.send('rss');
  });
}

async function load(url: string, connections = CONNECTIONS): Promise<Result> {
  return autocannon({ url, connections, duration: DURATION_S, timeout: 10 });
}

/** POSTs distinct texts to /v1/embeddings, so every request computes (the embedding cache never answers). */
async function embed(address: string, connections: number): Promise<Result> {
  let n = 0;
  return autocannon({
    url: `${address}/v1/embeddings`, connections, duration: DURATION_S, timeout: 10,
    requests: [{
      method: 'POST', path: '/v1/embeddings', headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ model: EMBEDDER, input: `bench text number ${n++} with a few more words` }) }),
    }],
  });
}

const statuses = (r: Result) => Object.entries(r.statusCodeStats).map(([code, s]) => `${code}: ${s.count}`).join(', ');

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function row(name: string, r: Result, baseline: Result | undefined): string {
  const ratio = baseline ? (r.requests.average / baseline.requests.average).toFixed(2) : '1.00';
  return `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s  x${ratio.padEnd(5)} p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  2xx ${String(r['2xx']).padStart(6)}  non2xx ${String(r.non2xx).padStart(5)}  errors ${r.errors + r.timeouts}`;
}

async function main(): Promise<void> {
  console.log(`server bench: ${MODELS} models in sqlite, ${CONNECTIONS} connections, ${DURATION_S} s per run, 127.0.0.1`);
  const { child, address } = await startServer({ rateLimitMax: 0, maxQueue: 512 });
  try {
    const health = await load(`${address}/health`);
    console.log(row('GET /health (baseline)', health, undefined));
    const rssBefore = await rss(child);
    const rounds: number[] = [];
    let list: Result | undefined;
    for (let i = 0; i < 3; i++) {
      list = await load(`${address}/api/models?limit=20&format=gguf`);
      rounds.push(await rss(child));
    }
    console.log(row('GET /api/models?limit=20&format=gguf', list!, health));
    console.log(row('GET /api/models/org/model-0042', await load(`${address}/api/models/org/model-0042`), health));
    console.log(row('GET /api/search?q=bench t3', await load(`${address}/api/search?q=bench%20t3&limit=10`), health));
    const errors = (list?.errors ?? 0) + (list?.timeouts ?? 0);
    console.log(`memory (server RSS after GC): before ${mb(rssBefore)}, after each list round ${rounds.map(mb).join(', ')}; growth round 1 -> 3: ${(((rounds[2]! - rounds[0]!) / rounds[0]!) * 100).toFixed(1)}%`);
    console.log(`errors below the limits: ${errors}`);

    await embed(address, 1); // loads the model, so the runs below measure serving
    const embedRss: number[] = [];
    let below: Result | undefined;
    for (let i = 0; i < 3; i++) {
      below = await embed(address, CONNECTIONS);
      embedRss.push(await rss(child));
    }
    console.log(row(`POST /v1/embeddings (queue 512)`, below!, health));
    console.log(`  statuses: ${statuses(below!)}; errors ${below!.errors + below!.timeouts}`);
    console.log(`memory (server RSS after GC) after each embeddings round: ${embedRss.map(mb).join(', ')}; growth round 1 -> 3: ${(((embedRss[2]! - embedRss[0]!) / embedRss[0]!) * 100).toFixed(1)}%`);
  } finally {
    child.disconnect();
  }

  const small = await startServer({ rateLimitMax: 0, maxQueue: 2 });
  try {
    await embed(small.address, 1);
    const over = await embed(small.address, 32);
    console.log(row('POST /v1/embeddings, 32 conns, queue 2', over, undefined));
    console.log(`  statuses: ${statuses(over)}; errors ${over.errors + over.timeouts} (expected: 200s and 503 QUEUE_FULL, no errors)`);
  } finally {
    small.child.disconnect();
  }

  const limit = 2000;
  const limited = await startServer({ rateLimitMax: limit, maxQueue: 0 });
  try {
    const over = await load(`${limited.address}/api/models/org/model-0042`);
    console.log(row(`overload, rate limit ${limit}/min`, over, undefined));
    console.log(`  statuses: ${statuses(over)}; errors ${over.errors + over.timeouts} (expected: ${limit} x 200, the rest 429, no errors)`);
  } finally {
    limited.child.disconnect();
  }
}

if (process.argv[2] === '--serve') await serve({ rateLimitMax: Number(process.argv[3] ?? 0), maxQueue: Number(process.argv[4] ?? 0) });
else await main();
