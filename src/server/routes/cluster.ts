/**
 * The cluster over HTTP: `GET /api/cluster` (every server sharing this registry, with its devices,
 * memory and loaded models) and `GET /api/events` (registry changes as server-sent events, from
 * PostgreSQL's LISTEN/NOTIFY, so a page shows what another server wrote within a second).
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { describeHost, loadedModels, packageVersion } from '../../cluster/host-info.js';
import type { ClusterHost } from '../../cluster/types.js';
import { ModelManagerError } from '../../errors.js';
import { visibleEntries, type ServerContext } from '../context.js';
import { anyObject, replies } from '../schemas.js';

/** Comment lines keep idle event streams open through proxies that drop silent connections. */
const KEEPALIVE_MS = 15_000;

/** This server alone, for a registry no other host shares. */
function thisServer(ctx: ServerContext, url: string): ClusterHost {
  const now = new Date().toISOString();
  return {
    hostId: ctx.hostId, url, version: packageVersion(), startedAt: new Date(ctx.startedAt).toISOString(), heartbeatMs: 0,
    info: describeHost(ctx.runtime), heartbeatAt: now, status: 'live', heartbeatAgeMs: 0, models: ctx.runtime ? loadedModels(ctx.runtime) : [],
  };
}

export function registerClusterRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ['cluster'];
  // Open event streams end when the server closes (it would wait for them otherwise).
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  app.get('/api/cluster', {
    schema: {
      tags, summary: 'Every server sharing this registry: devices, memory, and the models each has loaded; `gone` after three missed heartbeats',
      response: replies({
        type: 'object',
        properties: { hostId: { type: 'string' }, shared: { type: 'boolean' }, hosts: { type: 'array', items: anyObject } },
      }),
    },
  }, async (req) => {
    const cluster = ctx.registry.store.cluster;
    const hosts = cluster ? await cluster.hosts() : [thisServer(ctx, `${req.protocol}://${req.host}`)];
    for (const host of hosts) host.models = (await visibleEntries(ctx, req.caller, host.models)).map(({ info }) => info);
    return { hostId: ctx.hostId, shared: cluster !== undefined, hosts };
  });

  app.get('/api/events', {
    schema: { tags, summary: 'Registry changes as server-sent events: `resync` once listening (re-read what you show), then `change` {op, count} for each write by any server' },
  }, async (req, reply) => {
    const store = ctx.registry.store;
    if (!store.watch) {
      throw new ModelManagerError('NOT_ENABLED', `the ${store.kind} store cannot tell of changes made by other processes; the postgres store can`);
    }
    const stream = new PassThrough();
    const send = (event: string, data: unknown) => stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // Which models changed is not sent: a caller may not be allowed to know some exist.
    const stop = store.watch((change) => (change.op === 'resync' ? send('resync', {}) : send('change', { op: change.op, count: change.count })));
    const keepalive = setInterval(() => stream.write(': keep-alive\n\n'), KEEPALIVE_MS);
    const end = () => {
      streams.delete(end);
      stop();
      clearInterval(keepalive);
      stream.end();
    };
    streams.add(end);
    req.raw.once('close', end);
    reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no').type('text/event-stream');
    return reply.send(stream);
  });
}
