/**
 * Operations: `/health` for load balancers and `/metrics` for Prometheus.
 */
import type { FastifyInstance } from 'fastify';
import type { Caller } from '../auth/api-keys.js';
import { visibleFilter } from '../auth/access.js';
import { visibleLoaded, type ServerContext } from '../context.js';
import type { Sample } from '../metrics.js';
import { anyObject, replies } from '../schemas.js';

/**
 * Gauges read at scrape time from the registry and the runtime. Counts and labels cover only the
 * models the caller may see; totals that name no model (cache, lifecycle events) are the server's.
 */
async function runtimeSamples(ctx: ServerContext, caller: Caller): Promise<Sample[]> {
  const samples: Sample[] = [
    { name: 'mm_registry_models', help: 'Models in the registry.', type: 'gauge', value: await ctx.registry.countModels(visibleFilter(caller)) },
  ];
  if (!ctx.runtime) return samples;
  const loaded = (await visibleLoaded(ctx, caller)).map(({ info }) => info);
  const status = ctx.runtime.getStatus();
  const queueDepth = caller.role === 'admin' ? status.queueDepth : undefined;
  const cache = status.cache ?? {};
  const counters = status.counters ?? {};
  samples.push(
    { name: 'mm_loaded_models', help: 'Models loaded in memory.', type: 'gauge', value: loaded.length },
    { name: 'mm_loaded_bytes', help: 'Memory held by loaded models.', type: 'gauge', value: loaded.reduce((n, m) => n + m.sizeBytes, 0) },
    { name: 'mm_queue_depth', help: 'Requests waiting for a model, all models together.', type: 'gauge', value: queueDepth ?? loaded.reduce((n, m) => n + m.queue, 0) },
    { name: 'mm_embedding_cache_hits_total', help: 'Embeddings answered from the cache.', type: 'counter', value: cache.hits ?? 0 },
    { name: 'mm_embedding_cache_misses_total', help: 'Embeddings computed because the cache missed.', type: 'counter', value: cache.misses ?? 0 },
    { name: 'mm_embedding_cache_entries', help: 'Embeddings held in the cache.', type: 'gauge', value: cache.entries ?? 0 },
  );
  if (status.memory?.budgetBytes !== undefined) {
    samples.push({ name: 'mm_memory_budget_bytes', help: 'Memory all loaded models may take together.', type: 'gauge', value: status.memory.budgetBytes });
  }
  for (const [event, value] of Object.entries(counters)) {
    if (value !== undefined) samples.push({ name: 'mm_model_events_total', help: 'Model lifecycle events: loads, load failures, evictions, keep-alive expiries, releases.', type: 'counter', value, labels: { event } });
  }
  for (const m of loaded) {
    samples.push({ name: 'mm_model_queue_depth', help: 'Requests waiting for one model.', type: 'gauge', value: m.queue, labels: { model: m.model } });
  }
  return samples;
}

export function registerOpsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/health', {
    config: { public: true },
    schema: {
      tags: ['ops'], summary: 'Liveness and what this server runs',
      response: replies({
        type: 'object',
        properties: { status: { type: 'string' }, uptimeSeconds: { type: 'integer' }, discovery: { type: 'boolean' }, runtime: { type: 'boolean' }, store: anyObject },
      }),
    },
  }, async () => ({
    status: 'ok',
    uptimeSeconds: Math.floor((Date.now() - ctx.startedAt) / 1000),
    discovery: ctx.discovery !== undefined,
    runtime: ctx.runtime !== undefined,
    store: { kind: ctx.registry.store.kind },
  }));

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (text format 0.0.4); model counts and labels cover the models the key may see' } }, async (req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return ctx.metrics.render(await runtimeSamples(ctx, req.caller));
  });
}
