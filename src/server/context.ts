/**
 * What every route needs: the services, the settings, and helpers that apply access control.
 */
import type { Registry } from '../registry/registry.js';
import type { ModelMetadata } from '../registry/schema.js';
import { ModelManagerError } from '../errors.js';
import type { Caller } from './auth/api-keys.js';
import { canSee, modelNotFound } from './auth/access.js';
import type { ServerMetrics } from './metrics.js';
import type { DiscoveryService, RuntimeService } from './services.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set by the auth hook before any handler runs. */
    caller: Caller;
  }
}

export interface ServerContext {
  registry: Registry;
  discovery: DiscoveryService | undefined;
  runtime: RuntimeService | undefined;
  /** Real paths of the folders models may be registered from. */
  modelRoots: readonly string[];
  /** Keep-alive used when a request names none (minutes, or a duration such as "5m"). */
  keepAliveDefault: number | string | undefined;
  metrics: ServerMetrics;
  startedAt: number;
  /** This machine's id in a registry several hosts share (`MM_HOST_ID`, else the hostname). */
  hostId: string;
}

/** The model, if the caller may see it; the same 404 whether it is absent or hidden. */
export async function visibleModel(ctx: ServerContext, caller: Caller, modelId: string): Promise<ModelMetadata> {
  const model = await ctx.registry.getModel(modelId);
  if (!model || !canSee(caller, model)) throw modelNotFound(modelId);
  return model;
}

export function requireDiscovery(ctx: ServerContext): DiscoveryService {
  if (!ctx.discovery) {
    throw new ModelManagerError('NOT_ENABLED', 'discovery is not running in this server; start it with `mm serve` (discovery on) or pass `discovery` to createServer');
  }
  return ctx.discovery;
}

export function requireRuntime(ctx: ServerContext): RuntimeService {
  if (!ctx.runtime) {
    throw new ModelManagerError('NOT_ENABLED', 'the runtime is not running in this server; start it with `mm serve` or pass `runtime` to createServer');
  }
  return ctx.runtime;
}
