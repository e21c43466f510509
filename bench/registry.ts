/**
 * Registry benchmark: for each store and size, insert N generated models, then time getModel, a
 * three-field filter (first 50 rows) and a text search; for sqlite and postgres also the adds per
 * second of 1 and of 8 writer processes adding one model at a time. Ratios are against baselines
 * measured in the same run: a plain scan over an in-memory array of the same records (sizes up to
 * --scan-max), else SQLite at the same size.
 *
 *   npm run bench:registry -- [--models 100000] [--sizes 100000,1000000] [--json-models 10000] [--queries 300]
 *     [--stores sqlite,json,duckdb,postgres] [--pg postgres://...] [--writers 8] [--adds 400] [--explain]
 *
 * postgres needs --pg (or MM_BENCH_PG_URL, else MM_TEST_PG_URL); each size gets a schema of its
 * own, dropped at the end.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  Registry, compareModels, matchesFilter, normalizeFilter, page, rankSearch, searchWords, validateModel, type ModelMetadata, type StoreKind,
} from '../src/index.js';
import type { PostgresStore } from '../src/registry/stores/postgres.js';
import { benchFilter, benchModel, benchSearch, random } from './registry-data.js';
import { addThroughput } from './registry-writers.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: '100000' },
    sizes: { type: 'string' },
    'json-models': { type: 'string', default: '10000' },
    queries: { type: 'string', default: '300' },
    stores: { type: 'string', default: 'sqlite,json,duckdb' },
    pg: { type: 'string', default: process.env.MM_BENCH_PG_URL ?? process.env.MM_TEST_PG_URL },
    writers: { type: 'string', default: '8' },
    adds: { type: 'string', default: '400' },
    'scan-max': { type: 'string', default: '100000' },
    explain: { type: 'boolean', default: false },
  },
});
const SIZES = (args.sizes ?? args.models).split(',').map(Number).sort((a, b) => a - b);
const JSON_MODELS = Number(args['json-models']);
const QUERIES = Number(args.queries);
const WRITERS = Number(args.writers);
const ADDS = Number(args.adds);
const SCAN_MAX = Number(args['scan-max']);
const STORES = args.stores.split(',') as StoreKind[];
const BATCH = 5_000;
// The scan baseline is slow by nature (300 ms a search at 100k); fewer samples keep the run short.
const BASELINE_QUERIES = Math.min(QUERIES, 60);
if (STORES.includes('postgres') && !args.pg) throw new Error('postgres needs --pg postgres://... (or MM_BENCH_PG_URL)');

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

/** The generated records, in order, in batches: every store and size sees the same ones. */
function* batches(count: number): Generator<ModelMetadata[]> {
  const rnd = random(7);
  for (let i = 0; i < count; i += BATCH) {
    yield Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => validateModel(benchModel(i + k, rnd)));
  }
}

/** The questions every contender answers, drawn once per size so all answer the same ones. */
function workload(ids: readonly string[]) {
  const rnd = random(42);
  return {
    ids: Array.from({ length: QUERIES }, () => ids[Math.floor(rnd() * ids.length)]!),
    filters: Array.from({ length: QUERIES }, () => benchFilter(rnd)),
    searches: Array.from({ length: QUERIES }, () => benchSearch(rnd)),
  };
}

type Row = {
  name: string; count: number; insertMs: number; get: Timing; filter: Timing; search: Timing; bytes?: number;
  adds?: { one: number; many: number };
};

async function baseline(count: number): Promise<Row> {
  const start = performance.now();
  const validated = [...batches(count)].flat();
  // Each record's search words, worked out once as every store does when it adds a record.
  const words = new Map(validated.map((m) => [m, searchWords(m)]));
  const insertMs = performance.now() - start;
  const w = workload(validated.map((m) => m.modelId));
  return {
    name: 'array scan',
    count,
    insertMs,
    get: await time(BASELINE_QUERIES, (i) => validated.find((m) => m.modelId === w.ids[i])),
    filter: await time(BASELINE_QUERIES, (i) => {
      const f = normalizeFilter(w.filters[i]!);
      return page(validated.filter((m) => matchesFilter(m, f)).sort(compareModels(f.sort, f.order)), f);
    }),
    search: await time(BASELINE_QUERIES, (i) => rankSearch(validated, w.searches[i]!, 20, (m) => words.get(m)!)),
  };
}

async function withPg<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: args.pg });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function benchStore(kind: StoreKind, count: number, dir: string): Promise<Row> {
  const schema = `mm_bench_${count}_${process.pid}`;
  const db = kind === 'postgres' ? `${args.pg}${args.pg!.includes('?') ? '&' : '?'}schema=${schema}` : join(dir, `registry-${count}.${kind}`);
  const registry = await Registry.open({ store: kind, db });
  try {
    let insertMs = 0;
    const ids: string[] = [];
    for (const batch of batches(count)) {
      const start = performance.now();
      await registry.addModels(batch);
      insertMs += performance.now() - start;
      for (const m of batch) ids.push(m.modelId);
      if (ids.length % 100_000 === 0) console.error(`  ${kind}: ${ids.length.toLocaleString('en')} added`);
    }
    // What autovacuum does on its own a little later: planner statistics, GIN pending lists merged.
    if (kind === 'postgres') await withPg((c) => c.query(`VACUUM ANALYZE "${schema}".models`));
    const w = workload(ids);
    const row: Row = {
      name: kind,
      count,
      insertMs,
      get: await time(QUERIES, (i) => registry.getModel(w.ids[i]!)),
      filter: await time(QUERIES, (i) => registry.listModels(w.filters[i]!)),
      search: await time(QUERIES, (i) => registry.searchModels(w.searches[i]!, { limit: 20 })),
    };
    if (args.explain && kind === 'postgres') {
      const store = registry.store as PostgresStore;
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) at ${count.toLocaleString('en')} models, filter ${JSON.stringify(w.filters[0])}:\n`);
      console.log((await store.explain({ filter: normalizeFilter(w.filters[0]!) })).join('\n'));
      for (const text of [w.searches.find((s) => !s.includes(' '))!, w.searches.find((s) => s.includes(' '))!]) {
        console.log(`\nEXPLAIN (ANALYZE, BUFFERS) at ${count.toLocaleString('en')} models, search "${text}", each tier run:\n`);
        console.log((await store.explain({ search: text })).join('\n'));
      }
    }
    if (WRITERS > 0 && (kind === 'sqlite' || kind === 'postgres')) {
      console.error(`  ${kind}: add throughput, 1 and ${WRITERS} writers...`);
      const one = await addThroughput(kind, db, 1, ADDS, 10_000_000);
      const many = await addThroughput(kind, db, WRITERS, ADDS, 20_000_000);
      row.adds = { one, many };
    }
    row.bytes = kind === 'postgres'
      ? await withPg(async (c) => Number((await c.query<{ bytes: number }>(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8 AS bytes
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, [schema])).rows[0]?.bytes ?? 0))
      : statSync(db).size;
    return row;
  } finally {
    await registry.close();
    if (kind === 'postgres') await withPg((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  }
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
const ratio = (v: number, base: number) => `${(v / base).toFixed(v / base < 10 ? 2 : 0)}x`;
const perSecond = (n: number) => Math.round(n).toLocaleString('en');

function print(rows: Row[]): void {
  console.log('\n| store | models | insert | get p50 / p95 (ms) | filter p50 / p95 (ms) | search p50 / p95 (ms) | adds/s: 1 / 8 writers | size |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const base = rows.find((b) => b.count === r.count && b.name === 'array scan') ?? rows.find((b) => b.count === r.count && b.name === 'sqlite');
    const of = base?.name === 'array scan' ? 'scan' : 'sqlite';
    const vs = (t: Timing, b: Timing | undefined) => (!base || r === base || !b ? '' : ` (${ratio(t.p95, b.p95)} of ${of})`);
    const adds = r.adds ? `${perSecond(r.adds.one)} / ${perSecond(r.adds.many)} (${ratio(r.adds.many, r.adds.one)})` : '';
    console.log(`| ${r.name} | ${r.count.toLocaleString('en')} | ${(r.insertMs / 1000).toFixed(1)} s (${perSecond(r.count / (r.insertMs / 1000))}/s) | `
      + `${ms(r.get.p50)} / ${ms(r.get.p95)}${vs(r.get, base?.get)} | ${ms(r.filter.p50)} / ${ms(r.filter.p95)}${vs(r.filter, base?.filter)} | `
      + `${ms(r.search.p50)} / ${ms(r.search.p95)}${vs(r.search, base?.search)} | ${adds} | ${r.bytes === undefined ? '' : `${(r.bytes / 1e6).toFixed(0)} MB`} |`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'mm-bench-'));
const rows: Row[] = [];
try {
  for (const size of SIZES) {
    if (size <= SCAN_MAX) {
      console.error(`baseline over ${size.toLocaleString('en')} models...`);
      rows.push(await baseline(size));
    }
    for (const kind of STORES) {
      if (kind === 'json') continue;
      console.error(`${kind}: inserting ${size.toLocaleString('en')} models...`);
      rows.push(await benchStore(kind, size, dir));
    }
  }
  if (STORES.includes('json')) {
    const size = Math.min(SIZES[0]!, JSON_MODELS);
    if (size <= SCAN_MAX && !rows.some((r) => r.count === size && r.name === 'array scan')) rows.push(await baseline(size));
    console.error(`json: inserting ${size.toLocaleString('en')} models...`);
    rows.push(await benchStore('json', size, dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
print(rows);
console.log(`\n${QUERIES} queries of each kind per store (${BASELINE_QUERIES} for the scan) after a warm-up; ratios compare p95 with the array scan over the same records, else with SQLite at the same size.`);
console.log(`Adds/s: ${ADDS} models per writer process, one addModel (one transaction) each, into the loaded registry; in brackets ${WRITERS} writers against 1.`);
console.log('Targets: SQLite at 100k: getModel p95 < 1 ms, filter < 20 ms, search < 50 ms. PostgreSQL at 1M: get < 2 ms, filter < 50 ms, search < 100 ms; 8 writers >= 4x one.');
