// Lists the source files whose code runs for one embedding request, from V8's own coverage
// counters: `mm embed` (the whole one-shot process), and, on a model already loaded, one
// `task()` and one `POST /v1/embeddings` with texts the cache has not seen.
// Usage: npm run build && node scripts/request-files.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist', 'src');
const mm = await import(join(dist, 'index.js'));
const work = mkdtempSync(join(tmpdir(), 'mm-request-files-'));
const { path: model } = await mm.writeTestModel({ format: 'onnx', task: 'embedding', out: join(work, 'model') });

/** Source files (as `src/...`) that ran a function other than their module's top level. */
function filesRun(scripts) {
  const files = new Set();
  for (const { url, functions } of scripts) {
    if (!url.startsWith('file://') || !fileURLToPath(url).startsWith(dist)) continue;
    const ran = functions.some((f) => !(f.functionName === '' && f.ranges[0]?.startOffset === 0) && f.ranges[0]?.count > 0);
    if (ran) files.add(relative(join(root, 'dist'), fileURLToPath(url)).replace(/\.js$/, '.ts'));
  }
  return [...files].sort();
}

function print(title, files) {
  console.log(`\n${title}: ${files.length} files`);
  for (const file of files) console.log(`  ${file}`);
}

// mm embed: a process of its own, its coverage written by Node on exit.
const coverage = join(work, 'coverage');
const run = spawnSync(process.execPath, [join(dist, 'cli', 'main.js'), 'embed', model, 'hello world', '--device', 'cpu', '--store', 'json', '--db', join(work, 'registry.json')], {
  env: { ...process.env, NODE_V8_COVERAGE: coverage, MM_HOME: work },
  encoding: 'utf8',
});
if (run.status !== 0) throw new Error(`mm embed failed: ${run.stderr}`);
const scripts = readdirSync(coverage).flatMap((f) => JSON.parse(readFileSync(join(coverage, f), 'utf8')).result);
const cli = filesRun(scripts);
print('mm embed (whole process)', cli);
print('  of which src/runtime, src/cli/commands/embed.ts, src/errors.ts', cli.filter((f) => f.startsWith('src/runtime/') || f === 'src/cli/commands/embed.ts' || f === 'src/errors.ts'));

// In-process: a warm model, then counters reset, then one request whose texts are not cached.
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
const registry = await mm.Registry.open({ store: 'json', db: join(work, 'server.json') });
const manager = await mm.ModelManager.create({ registry, defaultKeepAlive: -1 });
const app = await mm.createServer({ registry, runtime: manager, modelRoots: [work] });
await registry.addModel({ modelId: 'test/embedder', modelName: 'embedder', modelType: 'embedding_model', format: 'onnx', localPath: model });
const warm = await manager.task({ taskData: ['warm up'], taskType: 'embedding', modelName: 'test/embedder', device: 'cpu' });
if (!warm.success) throw new Error(warm.error.message);
await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: 'test/embedder', input: 'warm up too' } });
// The first request's throughput goes to the registry in the background: not part of the next ones.
await manager.flushMeasurements();

async function measured(work) {
  await session.post('Profiler.takePreciseCoverage');
  await work();
  const { result } = await session.post('Profiler.takePreciseCoverage');
  return filesRun(result);
}

print('task() embedding, model loaded, cache miss', await measured(async () => {
  const result = await manager.task({ taskData: ['a text never seen', 'another one'], taskType: 'embedding', modelName: 'test/embedder' });
  if (!result.success) throw new Error(result.error.message);
}));
print('POST /v1/embeddings, model loaded, cache miss', await measured(async () => {
  const response = await app.inject({ method: 'POST', url: '/v1/embeddings', payload: { model: 'test/embedder', input: ['not seen yet', 'nor this'] } });
  if (response.statusCode !== 200) throw new Error(response.body);
}));

await app.close();
await manager.shutdown();
await registry.close();
session.disconnect();
rmSync(work, { recursive: true, force: true });
