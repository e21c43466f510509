/**
 * Discovery benchmark: cold scan, unchanged rescan and bytes read per model over a generated
 * tree of model folders, against a naive full read of the same files measured in the same run.
 *
 *   npm run bench:discovery -- [--models 10000] [--runs 3] [--naive-bytes 1073741824] [--tree DIR] [--workers N] [--keep]
 *
 * `--tree DIR` builds the tree in DIR once and reuses it on later runs (building 10,000 folders
 * takes minutes on a slow disk); registry and scan state are fresh in every run.
 *
 * Each run (cold scan, then unchanged rescan) is a new Node process with a new registry: a cold
 * scan pays for module loading and JIT compilation as `mm scan` does. The machines this runs on
 * are shared and noisy (the same build's scan moves by 1.5x from hour to hour), so the figures
 * are the median run's, with every run printed; the targets are judged on the median.
 *
 * The naive read cannot read terabytes of (sparse) weights in a benchmark: it reads one model of
 * each kind up to `--naive-bytes` per file, measures its throughput, and extrapolates to the
 * tree's declared bytes. The printout says which figures are measured and which extrapolated.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Discovery, Registry, formatBytes, loadConfig } from '../src/index.js';
import { buildBenchTree, type BenchTree } from './discovery-tree.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' }, 'naive-bytes': { type: 'string', default: String(2 ** 30) },
    tree: { type: 'string' }, workers: { type: 'string' }, keep: { type: 'boolean', default: false },
    /** Internal: run one cold scan and rescan of the models under this folder, print its figures as JSON. */
    'scan-once': { type: 'string' },
  },
});
const count = Number(values.models);
const naiveCap = Number(values['naive-bytes']);
// The scan's default: one thread fewer than cores (the main thread walks and writes the registry).

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

/** The figures of one run: a cold scan into a new registry, then an unchanged rescan. */
interface ScanRun {
  coldScanMs: number;
  coldScanCpuMs: number;
  coldScanSystemCpuMs: number;
  coldScanMainThreadCpuMs: number | undefined;
  coldPhasesMs: Record<string, number>;
  /** Header reader threads at the end of the cold scan. */
  coldReaderThreads: number;
  rescanMs: number;
  rescanCpuMs: number;
  rescanPhasesMs: Record<string, number>;
  bytesRead: number;
  maxBytesReadPerModel: number;
  rescanBytesRead: number;
  loadAverageBefore: number;
}

const load = () => Number(loadavg()[0]!.toFixed(1));

/** One run, in this process (a child of the benchmark's). */
async function scanOnce(root: string): Promise<ScanRun> {
  const base = mkdtempSync(join(tmpdir(), 'mm-bench-discovery-run-'));
  try {
    const config = loadConfig({ MM_HOME: join(base, 'home'), HF_HOME: join(base, 'none'), OLLAMA_MODELS: join(base, 'none'), LMSTUDIO_MODELS: join(base, 'none') });
    await using registry = await Registry.open({ store: 'sqlite', db: join(base, 'registry.db'), config });
    await using discovery = await Discovery.create({ registry, config, roots: [root], ...(values.workers === undefined ? {} : { workers: Number(values.workers) }) });
    const loadAverageBefore = load();
    let t = performance.now();
    let c0 = process.cpuUsage();
    const main0 = mainThreadCpuMs();
    const cold = await discovery.refresh();
    const coldScanMs = performance.now() - t;
    const coldUsage = process.cpuUsage(c0);
    const coldScanMainThreadCpuMs = main0 === undefined ? undefined : mainThreadCpuMs()! - main0;
    t = performance.now();
    c0 = process.cpuUsage();
    const warm = await discovery.refresh();
    const rescanMs = performance.now() - t;
    const rescanUsage = process.cpuUsage(c0);
    if (cold.counts.added !== count || warm.counts.unchanged !== count || cold.warnings.length > 0) {
      throw new Error(`unexpected counts: cold ${JSON.stringify(cold.counts)}, rescan ${JSON.stringify(warm.counts)}, first warning ${JSON.stringify(cold.warnings[0])}`);
    }
    return {
      coldScanMs: Math.round(coldScanMs),
      coldScanCpuMs: Math.round((coldUsage.user + coldUsage.system) / 1000),
      coldScanSystemCpuMs: Math.round(coldUsage.system / 1000),
      coldScanMainThreadCpuMs,
      coldPhasesMs: cold.phasesMs,
      coldReaderThreads: cold.readerThreads ?? 0,
      rescanMs: Math.round(rescanMs),
      rescanCpuMs: Math.round((rescanUsage.user + rescanUsage.system) / 1000),
      rescanPhasesMs: warm.phasesMs,
      bytesRead: cold.bytesRead,
      maxBytesReadPerModel: cold.maxModelBytesRead,
      rescanBytesRead: warm.bytesRead,
      loadAverageBefore,
    };
  } finally {
    if (!values.keep) rmSync(base, { recursive: true, force: true });
    else console.error(`kept ${base}`);
  }
}

/** One run in a new Node process. */
function scanInChild(root: string): ScanRun {
  const args = [fileURLToPath(import.meta.url), '--scan-once', root, '--models', String(count), ...(values.workers === undefined ? [] : ['--workers', values.workers]), ...(values.keep ? ['--keep'] : [])];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as ScanRun;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const seconds = (ms: number) => (ms / 1000).toFixed(2);

if (values['scan-once'] !== undefined) {
  console.log(JSON.stringify(await scanOnce(values['scan-once'])));
} else {
  const base = mkdtempSync(join(tmpdir(), 'mm-bench-discovery-'));
  try {
    const t = performance.now();
    const tree = reuseOrBuild(values.tree ?? base, count);
    const buildMs = performance.now() - t;
    console.error(`${tree.built ? 'built' : 'using'} ${count} model folders (${formatBytes(tree.declaredBytes)} declared, sparse) in ${(buildMs / 1000).toFixed(1)} s under ${tree.root}`);

    const runs: ScanRun[] = [];
    for (let i = 0; i < Math.max(1, Number(values.runs)); i++) {
      runs.push(scanInChild(tree.root));
      const r = runs.at(-1)!;
      console.error(`run ${i + 1}: cold scan ${seconds(r.coldScanMs)} s (${seconds(r.coldScanCpuMs)} s CPU), rescan ${seconds(r.rescanMs)} s`);
    }
    // The median run by cold scan time (with an even count, the slower of the middle two).
    const run = runs.find((r) => r.coldScanMs === median(runs.map((x) => x.coldScanMs)))!;
    const rescanMs = median(runs.map((r) => r.rescanMs));

    let naiveBytes = 0;
    let naiveMs = 0;
    for (const dir of tree.samples) {
      const r = naiveRead(dir, naiveCap);
      naiveBytes += r.bytes;
      naiveMs += r.ms;
    }
    const naiveThroughput = naiveBytes / (naiveMs / 1000);
    const naiveFullMs = (tree.declaredBytes / naiveThroughput) * 1000;

    const perModel = run.bytesRead / count;
    const maxPerModel = Math.max(...runs.map((r) => r.maxBytesReadPerModel));
    const result = {
      models: count,
      declaredBytes: tree.declaredBytes,
      runs: runs.length,
      coldScanMs: run.coldScanMs,
      coldScanCpuMs: run.coldScanCpuMs,
      coldScanSystemCpuMs: run.coldScanSystemCpuMs,
      coldScanMainThreadCpuMs: run.coldScanMainThreadCpuMs,
      coldPhasesMs: run.coldPhasesMs,
      coldScanMsEachRun: runs.map((r) => r.coldScanMs),
      readerThreadsEachRun: runs.map((r) => r.coldReaderThreads),
      rescanMs,
      rescanCpuMs: median(runs.map((r) => r.rescanCpuMs)),
      rescanMsEachRun: runs.map((r) => r.rescanMs),
      rescanPhasesMs: run.rescanPhasesMs,
      machine: { cpus: cpus().length, loadAverageBefore: runs[0]!.loadAverageBefore, loadAverageAfter: load() },
      bytesReadPerModel: Math.round(perModel),
      maxBytesReadPerModel: maxPerModel,
      rescanBytesRead: Math.max(...runs.map((r) => r.rescanBytesRead)),
      naive: { sampledFolders: tree.samples.length, bytesRead: naiveBytes, ms: Math.round(naiveMs), throughputBytesPerSec: Math.round(naiveThroughput), estimatedFullReadMs: Math.round(naiveFullMs) },
      ratios: {
        bytesNaiveOverScan: Math.round(tree.declaredBytes / run.bytesRead),
        timeNaiveOverColdScan: Math.round(naiveFullMs / run.coldScanMs),
        coldOverRescan: Number((run.coldScanMs / rescanMs).toFixed(1)),
      },
      targets: { coldUnder5s: run.coldScanMs < 5000, rescanUnder1s: rescanMs < 1000, maxPerModelUnder1MiB: maxPerModel <= 2 ** 20 },
    };
    console.log(JSON.stringify(result, null, 2));
    const each = (xs: number[]) => xs.map(seconds).join(', ');
    console.error(
      [
        `machine       ${cpus().length} cores, load average ${result.machine.loadAverageBefore} before, ${result.machine.loadAverageAfter} after (other work shares these cores)`,
        `cold scan     ${seconds(run.coldScanMs)} s wall (median of ${runs.length} runs, each a new process: ${each(result.coldScanMsEachRun)} s), ${seconds(run.coldScanCpuMs)} s CPU (${seconds(run.coldScanSystemCpuMs)} s in the kernel${run.coldScanMainThreadCpuMs === undefined ? '' : `, ${seconds(run.coldScanMainThreadCpuMs)} s on the main thread`}) for ${count} models, ${result.readerThreadsEachRun.join(', ')} header reader threads (target < 5 s): ${JSON.stringify(run.coldPhasesMs)} ms`,
        `rescan        ${seconds(rescanMs)} s wall (median; ${each(result.rescanMsEachRun)} s), ${seconds(result.rescanCpuMs)} s CPU, nothing re-read (${result.rescanBytesRead} bytes) (target < 1 s)`,
        `bytes/model   ${formatBytes(perModel)} average, ${formatBytes(maxPerModel)} at most (target <= 1 MiB); declared weights ${formatBytes(tree.declaredBytes / count)} average`,
        `naive read    measured ${formatBytes(naiveBytes)} of ${tree.samples.length} sample folders (capped at ${formatBytes(naiveCap)} per file) at ${formatBytes(naiveThroughput)}/s;`,
        `              extrapolated full read of the tree: ${(naiveFullMs / 1000 / 3600).toFixed(1)} h, ${result.ratios.timeNaiveOverColdScan}x the cold scan; ${result.ratios.bytesNaiveOverScan}x the bytes`,
      ].join('\n'),
    );
  } finally {
    if (!values.keep) rmSync(base, { recursive: true, force: true });
    else console.error(`kept ${base}`);
  }
}
