/**
 * One scan: walk the roots, read the headers of models whose files changed, and bring the
 * registry in step (add, update, mark missing). Every problem is a warning naming its path;
 * the registry keeps what it had for a model that could not be read.
 */
import { randomUUID } from 'node:crypto';
import { basename, resolve } from 'node:path';
import { toModelManagerError } from '../errors.js';
import { pathsOn, type ModelMetadataInput, type Registry } from '../registry/index.js';
import { describeFindings, type Description } from './describe.js';
import { readFindings } from './read-findings.js';
import { DescribePool, describedBy, type DescribeOutcome } from './describe-pool.js';
import { folderPrefix, Yielder, WarningSink } from './fs-scan.js';
import type { DiscoveryPlugins } from './plugins/discovery-plugins.js';
import type { CategorizationRules } from './rules.js';
import { allowedFormats, type DiscoverySettings } from './settings.js';
import { afterCopiesGone, mergeFindingOn, newRecordOn } from './host-copies.js';
import { fingerprint, type DiscoveryState } from './state.js';
import type { ModelUnit, ScanLogEntry, ScanProgress, ScanReport } from './types.js';
import { contestedPaths, valuesSetByMachine, type Finding } from '../registry/field-origin.js';
import { DISCOVERY_CHANGES } from './change-notes.js';
import { copyOnly, findingOf, KnownModels, placeCopy, requestedId } from './upsert.js';
import { walkRoot } from './walk.js';

export interface ScanContext {
  registry: Registry;
  state: DiscoveryState;
  settings: DiscoverySettings;
  rules: CategorizationRules;
  roots: readonly string[];
  onProgress?: (p: ScanProgress) => void;
  /** Models whose headers are read at once on the main thread. Defaults to 8. */
  concurrency?: number;
  /** Header reader threads for a large scan (the main thread walks and writes the registry meanwhile). Defaults to one fewer than `os.availableParallelism()`, at least 1; 0 reads on the main thread only. */
  workers?: number;
  /** Models to read above which the reader threads are started (starting them costs more than a small scan). Defaults to 500. */
  workersAbove?: number;
  /** Discovery plugins, offered the files no built-in reader takes. Defaults to none. */
  plugins?: DiscoveryPlugins;
  /** The scanning host in a registry several hosts share: records keep each host's copy as a location. Defaults to none (one machine). */
  host?: string;
}

const ADD_BATCH = 500;
/**
 * The batch size once fewer than ADD_BATCH models are left to handle. The last batch is written
 * after the last header is read, so its size is the scan's tail: 500 records took 80-180 ms of
 * a 10,000-model cold scan's wall time, while the few extra commits cost ~8 ms each in fsync,
 * overlapped with reading.
 */
const TAIL_BATCH = 64;
const LOGGED_CHANGES = 500;

const under = (path: string, dir: string) => path === dir || path.startsWith(folderPrefix(dir));

/**
 * Adds a reader thread each second the main thread spends mostly idle, waiting for headers:
 * reads that wait on the disk (a page-cache-cold scan) go faster with more of them in flight,
 * where reads from the cache are CPU-bound and a thread more only competes for the cores. On
 * 10,000 models (2 cores) the main thread was 78-100% busy reading from the cache and 0-60% busy
 * reading cold, where adding readers took the scan from 18.5-23.1 s to 13.9-18.1 s.
 * @returns what stops it
 */
function growWhenIdle(pool: DescribePool): () => void {
  let since = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const busy = performance.eventLoopUtilization(since).utilization;
    since = performance.eventLoopUtilization();
    if (busy < 0.5 && !pool.grow()) clearInterval(timer);
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The registry's models, or `'unchanged'` when nothing can have changed since the last scan:
 * every model found has the files the index remembers, none it remembers under these roots is
 * gone, and the registry holds as many discovered models as then. Listing 10,000 records is the
 * largest cost of an unchanged rescan, so it is skipped when it cannot tell anything new.
 */
async function knownModels(registry: Registry, state: DiscoveryState, units: readonly ModelUnit[], fingerprints: Map<string, string>, roots: readonly string[], host: string | undefined): Promise<KnownModels | 'unchanged'> {
  const unchanged =
    state.discoveredCount !== undefined &&
    units.every((u) => state.models.get(u.localPath)?.fingerprint === fingerprints.get(u.localPath)) &&
    [...state.models.keys()].filter((p) => roots.some((r) => under(p, r))).length === units.length &&
    (await registry.countModels({ source: 'discovered' })) === state.discoveredCount;
  return unchanged ? 'unchanged' : new KnownModels(await registry.listModels(), host);
}

/** Runs one scan and returns its report (never throws for a bad file; throws only when the registry fails). */
export async function runScan(ctx: ScanContext): Promise<ScanReport> {
  const { registry, state, settings, host } = ctx;
  const scanId = randomUUID();
  const startedAt = new Date();
  const seenAt = startedAt.toISOString();
  const t0 = performance.now();
  const roots = [...new Set(ctx.roots.map((r) => resolve(r)))];
  const warnings = new WarningSink();
  const log: ScanLogEntry[] = [];
  const info = (message: string, path?: string) => log.push({ at: new Date().toISOString(), level: 'info', scanId, message, ...(path ? { path } : {}) });
  info(`scan started: ${roots.join(', ') || '(no roots)'}`);

  // Models whose files differ from the index are read; once more than `workersAbove` of them are
  // found, reader threads start and read them while the walk goes on.
  const { workers, workersAbove = 500 } = ctx;
  let pool: DescribePool | undefined;
  let stopGrowing: (() => void) | undefined;
  await using _closesPool = {
    [Symbol.asyncDispose]: async () => {
      stopGrowing?.();
      await pool?.close();
    },
  };
  const toRead: ModelUnit[] = [];
  const reading = new Map<ModelUnit, Promise<DescribeOutcome>>();
  // Each unit's fingerprint is hashed once per scan (a SHA-1 per model is not free at 10,000 models).
  const fingerprintOf = new Map<ModelUnit, string>();
  const unitFingerprint = (u: ModelUnit) => {
    let fp = fingerprintOf.get(u);
    if (fp === undefined) fingerprintOf.set(u, (fp = fingerprint(u.files)));
    return fp;
  };
  const readEarly = (found: ModelUnit[]) => {
    if (workers === 0) return;
    for (const u of found) if (state.models.get(u.localPath)?.fingerprint !== unitFingerprint(u)) toRead.push(u);
    if (!pool && toRead.length > workersAbove) {
      pool = new DescribePool(workers === undefined ? {} : { workers });
      stopGrowing = growWhenIdle(pool);
    }
    if (!pool) return;
    for (const u of toRead.splice(0)) {
      const outcome = pool.describe(u);
      // Rejected only when the threads end early; awaited (and reported) when the model is handled.
      outcome.catch(() => undefined);
      reading.set(u, outcome);
    }
  };

  const yielder = new Yielder();
  const units: ModelUnit[] = [];
  const unreadable: string[] = [];
  const plugins = ctx.plugins?.session(warnings);
  let folders = 0;
  for (const root of roots) {
    const unclaimed: string[] = [];
    const walked = await walkRoot(root, {
      maxDepth: settings.maxScanDepth,
      scanSubdirectories: settings.scanSubdirectories,
      excludePatterns: settings.excludePatterns,
      formats: allowedFormats(settings),
      followSymlinks: settings.followSymlinks,
      warnings,
      yielder,
      onFolder: (path) => ctx.onProgress?.({ done: ++folders, path }),
      onUnits: readEarly,
      ...(plugins ? { onUnclaimed: (files: string[]) => unclaimed.push(...files) } : {}),
    });
    units.push(...walked.units);
    if (plugins) units.push(...(await plugins.claim(unclaimed, root)));
    unreadable.push(...walked.unreadable);
  }
  const walkMs = performance.now() - t0;
  const unique = [...new Map(units.map((u) => [u.localPath, u])).values()];
  const fingerprints = new Map(unique.map((u) => [u.localPath, unitFingerprint(u)]));
  const known = await knownModels(registry, state, unique, fingerprints, roots, host);

  const counts = { scanned: unique.length, added: 0, updated: 0, unchanged: 0, missing: 0, warnings: 0 };
  const found = new Set<string>();
  const taken = new Set<string>();
  // New records waiting to be written; once written only the first LOGGED_CHANGES ids stay, for
  // the log (10,000 records kept to the end of a scan cost the main thread's heap its GC time).
  const adds: ModelMetadataInput[] = [];
  const addsLogged: { modelId: string; localPath?: string }[] = [];
  const updates: { finding: Finding; owned: Map<string, unknown> }[] = [];
  let bytesRead = 0;
  let maxModelBytesRead = 0;
  let done = 0;
  const warn = (path: string, reason: string) => warnings.add(path, reason);
  const describe = async (unit: ModelUnit): Promise<Description> => {
    // A thread that failed (out of memory, say) costs its models nothing: they are read here instead.
    if (unit.kind === 'plugin') return plugins!.describe(unit, ctx.rules);
    const early = reading.get(unit);
    reading.delete(unit);
    const outcome = await (early ?? pool?.describe(unit))?.catch(() => undefined);
    return describeFindings(outcome ? describedBy(outcome, warn) : await readFindings(unit, warn), ctx.rules);
  };

  /** Reports a unit that failed; the index remembers why, so an unchanged broken file is not read again. */
  const failed = (unit: ModelUnit, fp: string, path: string, reason: string) => {
    warnings.add(path, reason);
    state.models.set(unit.localPath, { modelId: '', fingerprint: fp, failed: { path, reason } });
  };

  const handle = async (unit: ModelUnit) => {
    const fp = fingerprints.get(unit.localPath)!;
    const before = state.models.get(unit.localPath);
    // A registered model whose files are here is not missing, even when they cannot be read now.
    const stored = known === 'unchanged' ? undefined : known.byPath.get(unit.localPath);
    if (stored) {
      found.add(stored.modelId);
      taken.add(stored.modelId);
    }
    if (before?.failed && before.fingerprint === fp) return warnings.add(before.failed.path, before.failed.reason);
    if (known === 'unchanged') {
      found.add(before!.modelId);
      counts.unchanged += 1;
      return;
    }
    if (before && stored && before.fingerprint === fp && before.modelId === stored.modelId && stored.status !== 'missing') {
      counts.unchanged += 1;
      return;
    }
    try {
      const d = await describe(unit);
      bytesRead += d.bytesRead;
      maxModelBytesRead = Math.max(maxModelBytesRead, d.bytesRead);
      if (d.moved !== undefined) {
        warnings.add(d.moved, 'changed while it was being read; the registry keeps what it had and the next scan reads it again');
        state.models.delete(unit.localPath);
        return;
      }
      const metadataPath = unit.files.find((f) => basename(f.path) === 'metadata.json')?.path ?? unit.localPath;
      const { modelId, joined } = placeCopy(unit.localPath, unit.idHint, known, taken, d.fields.files, requestedId(d, metadataPath, warn));
      taken.add(modelId);
      const current = known.byId.get(modelId);
      // A new model is found once the registry holds it (see writeAdds).
      if (current) found.add(modelId);
      // A new model without metadata.json is validated once, by the registry's add.
      if (!current && Object.keys(d.overrides).length === 0) adds.push(newRecordOn({ ...d.fields, modelId }, host, seenAt));
      else {
        const read = findingOf(modelId, d, warn, metadataPath);
        const finding = joined ? copyOnly(read) : read;
        if (!current) adds.push(newRecordOn(finding.record, host, seenAt));
        else {
          // Who set the values the files now contradict is read from the model's history, only for those.
          const owned = await valuesSetByMachine(registry, modelId, contestedPaths(current, finding));
          if (mergeFindingOn(current, finding, owned, host, seenAt)) updates.push({ finding, owned });
          else counts.unchanged += 1;
        }
      }
      state.models.set(unit.localPath, { modelId, fingerprint: fp });
    } catch (error) {
      const err = toModelManagerError(error);
      const path = typeof err.details.path === 'string' ? err.details.path : unit.localPath;
      failed(unit, fp, path, err.message.startsWith(`${path}: `) ? err.message.slice(path.length + 2) : err.message);
    }
  };

  // New models go to the registry in batches while headers are still being read (reader threads
  // keep reading meanwhile); the rest when all are read. One writer at a time (`flushing`).
  let flushing = false;
  const batchSize = () => (unique.length - done > ADD_BATCH ? ADD_BATCH : TAIL_BATCH);
  const writeAdds = async (all: boolean) => {
    while (adds.length >= batchSize() || (all && adds.length > 0)) {
      const batch = adds.splice(0, ADD_BATCH);
      for (const m of batch.slice(0, LOGGED_CHANGES - addsLogged.length)) addsLogged.push({ modelId: m.modelId, ...(m.localPath === undefined ? {} : { localPath: m.localPath }) });
      try {
        await registry.addModels(batch, DISCOVERY_CHANGES.added);
        counts.added += batch.length;
        for (const m of batch) found.add(m.modelId);
      } catch {
        // One bad record must not cost the batch: add them one by one, naming the failures.
        for (const m of batch) {
          try {
            await registry.addModel(m, DISCOVERY_CHANGES.added);
            counts.added += 1;
            found.add(m.modelId);
          } catch (error) {
            warnings.add(m.localPath ?? m.modelId, `not added to the registry: ${toModelManagerError(error).message}`);
            state.models.delete(m.localPath ?? '');
          }
        }
      }
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < unique.length) {
      const unit = unique[next++]!;
      await handle(unit);
      if (!flushing && adds.length >= batchSize()) {
        flushing = true;
        await writeAdds(false);
        flushing = false;
      }
      done += 1;
      ctx.onProgress?.({ done, total: unique.length, path: unit.localPath });
      await yielder.maybe();
    }
  };
  // With reader threads, enough models are in flight that results are handled as they come.
  const concurrency = pool ? 512 : Math.max(1, ctx.concurrency ?? 8);
  await Promise.all(Array.from({ length: concurrency }, worker));
  // Every header is read: the threads end while the registry is brought in step.
  stopGrowing?.();
  const readerThreads = pool?.workers ?? 0;
  const poolClosed = pool?.close();
  const readMs = performance.now() - t0 - walkMs;

  await writeAdds(true);
  for (const m of addsLogged) info(`added ${m.modelId}`, m.localPath);
  for (const { finding, owned } of updates) {
    const m = finding.record;
    try {
      await registry.updateModel(m.modelId, (current) => mergeFindingOn(current, finding, owned, host, seenAt) ?? current, DISCOVERY_CHANGES.updated);
      counts.updated += 1;
      if (counts.updated <= LOGGED_CHANGES) info(`updated ${m.modelId}`, m.localPath);
    } catch (error) {
      warnings.add(m.localPath ?? m.modelId, `not updated in the registry: ${toModelManagerError(error).message}`);
      state.models.delete(m.localPath ?? '');
    }
  }

  // This host's copies under the roots scanned (outside unreadable folders) that are gone: dropped,
  // and a model with no copy left anywhere is marked missing. Other hosts' copies are theirs to judge.
  const present = new Set(unique.map((u) => u.localPath));
  for (const m of known === 'unchanged' ? [] : known.byId.values()) {
    if (m.source !== 'discovered') continue;
    const gone = pathsOn(m, host).filter((p) => !present.has(p) && roots.some((r) => under(p, r)) && !unreadable.some((d) => under(p, d)));
    const after = gone.length === 0 ? undefined : afterCopiesGone(m, gone, host, found.has(m.modelId));
    if (!after) continue;
    if (after.missing) counts.missing += 1;
    if (after.missing && m.status === 'missing') continue;
    // A copy gone is a change of the files too: the version stays discovery's (see field-origin).
    await registry.updateModel(m.modelId, (current) => afterCopiesGone(current, gone, host, found.has(m.modelId))?.model ?? current,
      after.missing ? DISCOVERY_CHANGES.missing : DISCOVERY_CHANGES.updated);
    info(after.missing ? `marked missing ${m.modelId}: its files are gone` : `dropped the copy of ${m.modelId} on ${host}: its files are gone`, gone[0]);
  }

  // Forget index entries of models no longer on disk (under the roots scanned, outside unreadable folders).
  for (const path of [...state.models.keys()]) {
    if (!present.has(path) && roots.some((r) => under(path, r)) && !unreadable.some((d) => under(path, d))) state.models.delete(path);
  }

  counts.warnings = warnings.items.length;
  for (const w of warnings.items) log.push({ at: new Date().toISOString(), level: 'warn', scanId, path: w.path, message: w.reason });
  const finishedAt = new Date();
  const registryMs = performance.now() - t0 - walkMs - readMs;
  const summary = {
    phasesMs: { walk: Math.round(walkMs), read: Math.round(readMs), registry: Math.round(registryMs) },
    readerThreads,
    scanId, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), durationMs: Math.round(performance.now() - t0), roots, counts, bytesRead, maxModelBytesRead,
  };
  info(`scan finished in ${summary.durationMs} ms: ${counts.scanned} found, ${counts.added} added, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.missing} missing, ${counts.warnings} warnings`);
  state.lastScan = summary;
  state.discoveredCount = await registry.countModels({ source: 'discovered' });
  await state.saveIndex();
  await state.appendLog(log);
  await poolClosed;
  return { ...summary, warnings: warnings.items, modelIds: [...found].sort() };
}
