/**
 * Discovery benchmark: cold scan, unchanged rescan and bytes read per model over a generated
 * tree of model folders, against a naive full read of the same files measured in the same run.
 *
 *   npm run bench:discovery -- [--models 10000] [--naive-bytes 1073741824] [--tree DIR] [--workers N] [--keep]
 *
 * `--tree DIR` builds the tree in DIR once and reuses it on later runs (building 10,000 folders
 * takes minutes on a slow disk); registry and scan state are fresh in every run.
 *
 * The naive read cannot read terabytes of (sparse) weights in a benchmark: it reads one model of
 * each kind up to `--naive-bytes` per file, measures its throughput, and extrapolates to the
 * tree's declared bytes. The printout says which figures are measured and which extrapolated.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Discovery, Registry, formatBytes, loadConfig } from '../src/index.js';
import { buildBenchTree, type BenchTree } from './discovery-tree.js';

const { values } = parseArgs({
  options: { models: { type: 'string', default: '10000' }, 'naive-bytes': { type: 'string', default: String(2 ** 30) }, tree: { type: 'string' }, workers: { type: 'string' }, keep: { type: 'boolean', default: false } },
});
const count = Number(values.models);
const naiveCap = Number(values['naive-bytes']);
// The scan's default: one thread fewer than cores (the main thread reads too when idle).
const readerThreads = values.workers === undefined ? Math.max(1, availableParallelism() - 1) : Number(values.workers);

/**
 * CPU time of the main thread alone (it walks and writes the registry while reader threads read
 * headers), from /proc on Linux (10 ms ticks); undefined elsewhere.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Reads every file of a folder from start to end (up to `cap` bytes each); returns bytes and ms. */
function naiveRead(dir: string, cap: number): { bytes: number; declared: number; ms: number } {
  const buf = Buffer.allocUnsafe(8 * 2 ** 20);
  let bytes = 0;
  let declared = 0;
  const t0 = performance.now();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    declared += statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      let pos = 0;
      for (let n = 1; n > 0 && pos < cap; pos += n) n = readSync(fd, buf, 0, Math.min(buf.length, cap - pos), pos);
      bytes += pos;
    } finally {
      closeSync(fd);
    }
  }
  return { bytes, declared, ms: performance.now() - t0 };
}

/** The tree described by DIR/tree.json when it has `count` models, else a new one written there. */
function reuseOrBuild(dir: string, count: number): BenchTree & { built: boolean } {
  const manifest = join(dir, 'tree.json');
  if (existsSync(manifest)) {
    const tree = JSON.parse(readFileSync(manifest, 'utf8')) as BenchTree;
    if (tree.models === count) return { ...tree, built: false };
    rmSync(join(dir, 'models'), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const tree = buildBenchTree(dir, count);
  writeFileSync(manifest, JSON.stringify(tree));
  // The kernel writes the new tree (10,000 folders, ~1 GB of headers) back to disk in the
  // following seconds; a scan timed meanwhile would pay for the benchmark's own set-up. `sync`
  // waits for that write-back, so the scan reads a settled tree, as it would on a real disk.
  try {
    execFileSync('sync');
  } catch {
    // No `sync` command (Windows): the first run then includes some write-back.
  }
  return { ...tree, built: true };
}

const base = mkdtempSync(join(tmpdir(), 'mm-bench-discovery-'));
try {
  let t = performance.now();
  const tree = reuseOrBuild(values.tree ?? base, count);
  const buildMs = performance.now() - t;
  console.error(`${tree.built ? 'built' : 'using'} ${count} model folders (${formatBytes(tree.declaredBytes)} declared, sparse) in ${(buildMs / 1000).toFixed(1)} s under ${tree.root}`);

  const config = loadConfig({ MM_HOME: join(base, 'home'), HF_HOME: join(base, 'none'), OLLAMA_MODELS: join(base, 'none'), LMSTUDIO_MODELS: join(base, 'none') });
  await using registry = await Registry.open({ store: 'sqlite', db: join(base, 'registry.db'), config });
  await using discovery = await Discovery.create({ registry, config, roots: [tree.root], ...(values.workers === undefined ? {} : { workers: Number(values.workers) }) });

  const cpu = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return Math.round((u.user + u.system) / 1000);
  };
  const load = () => Number(loadavg()[0]!.toFixed(1));
  const loadBefore = load();
  t = performance.now();
  let c0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const cold = await discovery.refresh();
  const coldMs = performance.now() - t;
  const coldUsage = process.cpuUsage(c0);
  const coldCpuMs = Math.round((coldUsage.user + coldUsage.system) / 1000);
  const coldSystemCpuMs = Math.round(coldUsage.system / 1000);
  const coldMainCpuMs = main0 === undefined ? undefined : mainThreadCpuMs()! - main0;
  t = performance.now();
  c0 = process.cpuUsage();
  const warm = await discovery.refresh();
  const rescanMs = performance.now() - t;
  const rescanCpuMs = cpu(c0);
  if (cold.counts.added !== count || warm.counts.unchanged !== count || cold.warnings.length > 0) {
    throw new Error(`unexpected counts: cold ${JSON.stringify(cold.counts)}, rescan ${JSON.stringify(warm.counts)}, first warning ${JSON.stringify(cold.warnings[0])}`);
  }

  let naiveBytes = 0;
  let naiveMs = 0;
  for (const dir of tree.samples) {
    const r = naiveRead(dir, naiveCap);
    naiveBytes += r.bytes;
    naiveMs += r.ms;
  }
  const naiveThroughput = naiveBytes / (naiveMs / 1000);
  const naiveFullMs = (tree.declaredBytes / naiveThroughput) * 1000;

  const perModel = cold.bytesRead / count;
  const result = {
    models: count,
    declaredBytes: tree.declaredBytes,
    coldScanMs: Math.round(coldMs),
    coldScanCpuMs: coldCpuMs,
    coldScanSystemCpuMs: coldSystemCpuMs,
    coldScanMainThreadCpuMs: coldMainCpuMs,
    coldPhasesMs: cold.phasesMs,
    readerThreads,
    rescanMs: Math.round(rescanMs),
    rescanCpuMs,
    rescanPhasesMs: warm.phasesMs,
    machine: { cpus: cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: load() },
    bytesReadPerModel: Math.round(perModel),
    maxBytesReadPerModel: cold.maxModelBytesRead,
    rescanBytesRead: warm.bytesRead,
    naive: { sampledFolders: tree.samples.length, bytesRead: naiveBytes, ms: Math.round(naiveMs), throughputBytesPerSec: Math.round(naiveThroughput), estimatedFullReadMs: Math.round(naiveFullMs) },
    ratios: {
      bytesNaiveOverScan: Math.round(tree.declaredBytes / cold.bytesRead),
      timeNaiveOverColdScan: Math.round(naiveFullMs / coldMs),
      coldOverRescan: Number((coldMs / rescanMs).toFixed(1)),
    },
    targets: { coldUnder5s: coldMs < 5000, rescanUnder1s: rescanMs < 1000, maxPerModelUnder1MiB: cold.maxModelBytesRead <= 2 ** 20 },
  };
  console.log(JSON.stringify(result, null, 2));
  console.error(
    [
      `machine       ${cpus().length} cores, load average ${loadBefore} before, ${load()} after (other work shares these cores)`,
      `cold scan     ${(coldMs / 1000).toFixed(2)} s wall, ${(coldCpuMs / 1000).toFixed(2)} s CPU (${(coldSystemCpuMs / 1000).toFixed(2)} s in the kernel${coldMainCpuMs === undefined ? '' : `, ${(coldMainCpuMs / 1000).toFixed(2)} s on the main thread`}) for ${count} models, ${readerThreads} header reader threads (target < 5 s): ${JSON.stringify(cold.phasesMs)} ms`,
      `rescan        ${(rescanMs / 1000).toFixed(2)} s wall, ${(rescanCpuMs / 1000).toFixed(2)} s CPU, nothing re-read (${warm.bytesRead} bytes) (target < 1 s)`,
      `bytes/model   ${formatBytes(perModel)} average, ${formatBytes(cold.maxModelBytesRead)} at most (target <= 1 MiB); declared weights ${formatBytes(tree.declaredBytes / count)} average`,
      `naive read    measured ${formatBytes(naiveBytes)} of ${tree.samples.length} sample folders (capped at ${formatBytes(naiveCap)} per file) at ${formatBytes(naiveThroughput)}/s;`,
      `              extrapolated full read of the tree: ${(naiveFullMs / 1000 / 3600).toFixed(1)} h, ${result.ratios.timeNaiveOverColdScan}x the cold scan; ${result.ratios.bytesNaiveOverScan}x the bytes`,
    ].join('\n'),
  );
} finally {
  if (!values.keep) rmSync(base, { recursive: true, force: true });
  else console.error(`kept ${base}`);
}
