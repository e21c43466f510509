/**
 * Registry benchmark: for each store, insert N generated models, then time getModel, a three-field
 * filter (first 50 rows) and a text search. Ratios are against a baseline measured in the same run:
 * the same questions answered by a plain scan over an in-memory array of the same records.
 *
 *   npm run bench:registry -- [--models 100000] [--json-models 10000] [--queries 300] [--stores sqlite,json,duckdb]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Registry, compareModels, matchesFilter, normalizeFilter, page, rankSearch, searchWords, validateModel, type ModelMetadata, type StoreKind,
} from '../src/index.js';
import { benchFilter, benchModel, benchSearch, random } from './registry-data.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: '100000' },
    'json-models': { type: 'string', default: '10000' },
    queries: { type: 'string', default: '300' },
    stores: { type: 'string', default: 'sqlite,json,duckdb' },
  },
});
const MODELS = Number(args.models);
const JSON_MODELS = Math.min(MODELS, Number(args['json-models']));
const QUERIES = Number(args.queries);
const BATCH = 5_000;
// The scan baseline is slow by nature (300 ms a search at 100k); fewer samples keep the run short.
const BASELINE_QUERIES = Math.min(QUERIES, 60);

interface Timing {
  p50: number;
  p95: number;
}

function percentiles(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95) };
}

async function time(count: number, run: (i: number) => Promise<unknown> | unknown): Promise<Timing> {
  for (let i = 0; i < Math.min(10, count); i++) await run(i); // warm-up: caches, JIT, prepared statements
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await run(i);
    samples.push(performance.now() - start);
  }
  return percentiles(samples);
}

/** The questions every contender answers, drawn once so all answer the same ones. */
function workload(models: readonly ModelMetadata[]) {
  const rnd = random(42);
  return {
    ids: Array.from({ length: QUERIES }, () => models[Math.floor(rnd() * models.length)]!.modelId),
    filters: Array.from({ length: QUERIES }, () => benchFilter(rnd)),
    searches: Array.from({ length: QUERIES }, () => benchSearch(rnd)),
  };
}

type Row = { name: string; count: number; insertMs: number; get: Timing; filter: Timing; search: Timing; bytes?: number };

async function baseline(models: ModelMetadata[]): Promise<Row> {
  const w = workload(models);
  const start = performance.now();
  const validated = models.map((m) => validateModel(m));
  // Each record's search words, worked out once as every store does when it adds a record.
  const words = new Map(validated.map((m) => [m, searchWords(m)]));
  const insertMs = performance.now() - start;
  return {
    name: 'array scan',
    count: models.length,
    insertMs,
    get: await time(BASELINE_QUERIES, (i) => validated.find((m) => m.modelId === w.ids[i])),
    filter: await time(BASELINE_QUERIES, (i) => {
      const f = normalizeFilter(w.filters[i]!);
      return page(validated.filter((m) => matchesFilter(m, f)).sort(compareModels(f.sort, f.order)), f);
    }),
    search: await time(BASELINE_QUERIES, (i) => rankSearch(validated, w.searches[i]!, 20, (m) => words.get(m)!)),
  };
}

async function benchStore(kind: StoreKind, models: ModelMetadata[], dir: string): Promise<Row> {
  const db = join(dir, `registry.${kind}`);
  const registry = await Registry.open({ store: kind, db });
  try {
    const start = performance.now();
    for (let i = 0; i < models.length; i += BATCH) await registry.addModels(models.slice(i, i + BATCH));
    const insertMs = performance.now() - start;
    const w = workload(models);
    const row: Row = {
      name: kind,
      count: models.length,
      insertMs,
      get: await time(QUERIES, (i) => registry.getModel(w.ids[i]!)),
      filter: await time(QUERIES, (i) => registry.listModels(w.filters[i]!)),
      search: await time(QUERIES, (i) => registry.searchModels(w.searches[i]!, { limit: 20 })),
    };
    row.bytes = statSync(db).size;
    return row;
  } finally {
    await registry.close();
  }
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
const ratio = (v: number, base: number) => `${(v / base).toFixed(v / base < 10 ? 2 : 0)}x`;

function print(rows: Row[], bases: Map<number, Row>): void {
  console.log('\n| store | models | insert | get p50 / p95 (ms) | filter p50 / p95 (ms) | search p50 / p95 (ms) | file |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const base = bases.get(r.count)!;
    const vs = (t: Timing, b: Timing) => (r === base ? '' : ` (${ratio(t.p95, b.p95)} of scan)`);
    console.log(`| ${r.name} | ${r.count.toLocaleString('en')} | ${(r.insertMs / 1000).toFixed(1)} s (${Math.round(r.count / (r.insertMs / 1000)).toLocaleString('en')}/s) | `
      + `${ms(r.get.p50)} / ${ms(r.get.p95)}${vs(r.get, base.get)} | ${ms(r.filter.p50)} / ${ms(r.filter.p95)}${vs(r.filter, base.filter)} | `
      + `${ms(r.search.p50)} / ${ms(r.search.p95)}${vs(r.search, base.search)} | ${r.bytes === undefined ? '' : `${(r.bytes / 1e6).toFixed(0)} MB`} |`);
  }
}

const rnd = random(7);
console.error(`generating ${MODELS.toLocaleString('en')} models...`);
const all = Array.from({ length: MODELS }, (_, i) => validateModel(benchModel(i, rnd)));
const dir = mkdtempSync(join(tmpdir(), 'mm-bench-'));
const rows: Row[] = [];
const bases = new Map<number, Row>();
try {
  for (const kind of args.stores.split(',') as StoreKind[]) {
    const models = kind === 'json' ? all.slice(0, JSON_MODELS) : all;
    if (!bases.has(models.length)) {
      console.error(`baseline over ${models.length.toLocaleString('en')} models...`);
      const base = await baseline(models);
      bases.set(models.length, base);
      rows.push(base);
    }
    console.error(`${kind}: inserting ${models.length.toLocaleString('en')} models...`);
    rows.push(await benchStore(kind, models, dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
print(rows, bases);
console.log(`\n${QUERIES} queries of each kind per store (${BASELINE_QUERIES} for the scan) after a warm-up; ratios compare p95 with the array scan over the same records.`);
console.log('Targets (SQLite, 100k models): getModel p95 < 1 ms, filtered list p95 < 20 ms, search p95 < 50 ms.');
