/**
 * What a scrape costs: `/metrics` and `/api/stats` for an admin (who sees every model) and for a
 * reader (who sees the public models and the restricted ones of its group), on a registry of
 * BENCH_MODELS models (default 20,000; 80% public, 15% restricted to one of four groups, 5%
 * admin_only) on each store. Prints the median of BENCH_ROUNDS requests per route and caller, and
 * the reader/admin ratio (the admin's answer comes from the store's counts, the baseline).
 * Run: npm run bench:counts  (BENCH_STORES=sqlite,json,duckdb picks the stores).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys, Registry, createApiKey, createServer, type ModelMetadataInput, type StoreKind } from '../src/index.js';
import { benchModel, random } from './registry-data.js';

const MODELS = Number(process.env.BENCH_MODELS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const STORES = (process.env.BENCH_STORES ?? 'sqlite,json,duckdb').split(',') as StoreKind[];
const GROUPS = ['research', 'legal', 'medical', 'ops'];

function accessOf(rnd: () => number): Pick<ModelMetadataInput, 'accessLevel' | 'groups'> {
  const r = rnd();
  if (r < 0.8) return { accessLevel: 'public' };
  if (r < 0.95) return { accessLevel: 'restricted', groups: [GROUPS[Math.floor(rnd() * GROUPS.length)]!] };
  return { accessLevel: 'admin_only' };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(kind: StoreKind): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-counts-'));
  try {
    const registry = await Registry.open({ store: kind, db: join(dir, `registry.${kind}`) });
    const rnd = random(7);
    for (let i = 0; i < MODELS; i += 1000) {
      await registry.addModels(Array.from({ length: Math.min(1000, MODELS - i) }, (_, j) => ({ ...benchModel(i + j, rnd), ...accessOf(rnd) })));
    }
    const admin = createApiKey({ user: 'ada', role: 'admin' });
    const reader = createApiKey({ user: 'rita', role: 'reader', groups: ['research'] });
    const app = await createServer({ registry, auth: ApiKeys.fromRecords([admin.record, reader.record]), rateLimit: false });
    const row: string[] = [];
    for (const url of ['/metrics', '/api/stats']) {
      const times: Record<string, number> = {};
      for (const [who, key] of [['admin', admin.key], ['reader', reader.key]] as const) {
        const ms: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          const t0 = performance.now();
          const res = await app.inject({ url, headers: { authorization: `Bearer ${key}` } });
          ms.push(performance.now() - t0);
          if (res.statusCode !== 200) throw new Error(`${url} as ${who}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
        times[who] = median(ms);
      }
      row.push(`${url} admin ${times.admin!.toFixed(1)} ms, reader ${times.reader!.toFixed(1)} ms (x${(times.reader! / times.admin!).toFixed(1)})`);
    }
    console.log(`${kind} (${MODELS} models): ${row.join('; ')}`);
    await app.close();
    await registry.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of STORES) await bench(kind);
