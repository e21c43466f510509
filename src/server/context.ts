/**
 * What every route needs: the services, the settings, and helpers that apply access control.
 */
import { realpath } from 'node:fs/promises';
import type { Registry } from '../registry/registry.js';
import type { ModelMetadata } from '../registry/schema.js';
import type { StoredModel } from '../registry/stores/store.js';
import { ModelManagerError, isModelManagerError } from '../errors.js';
import { parseHubName } from '../hub/pull/hub-name.js';
import type { Caller } from './auth/api-keys.js';
import { canSee, modelNotFound } from './auth/access.js';
import { HiddenModels } from './auth/hidden-models.js';
import type { ServerMetrics } from './metrics.js';
import { checkModelPath, pathNotFound } from './model-roots.js';
import type { DiscoveryService, LoadedModelLike, RuntimeService } from './services.js';

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
  /** Keep-alive used when a request names none, in milliseconds (Infinity: kept until released). */
  keepAliveDefaultMs: number | undefined;
  metrics: ServerMetrics;
  startedAt: number;
  /** This machine's id in a registry several hosts share (`MM_HOST_ID`, else the hostname). */
  hostId: string;
}

/**
 * The model a caller names (`id`, `id@3`, `id@alias`), if the caller may see it; the same 404
 * whether it is absent or hidden. Access follows the model's current record, so an old version
 * of a model that is hidden now is hidden too.
 */
export async function visibleModel(ctx: ServerContext, caller: Caller, modelId: string): Promise<ModelMetadata> {
  const found = await ctx.registry.lookupModel(modelId);
  if (!found || !canSee(caller, found.current)) throw modelNotFound(modelId);
  return found.model;
}

/**
 * A model's stored record, deleted or not, if the caller may see it: what its history, a rollback
 * (which restores a deleted model) and a delete for good work on. The same 404 as visibleModel.
 */
export async function visibleStored(ctx: ServerContext, caller: Caller, modelId: string): Promise<StoredModel> {
  const stored = await ctx.registry.store.get(modelId);
  if (!stored || !canSee(caller, stored.model)) throw modelNotFound(modelId);
  return stored;
}

/**
 * Checks that the caller may run what `name` names: a registry model it may see, a configured
 * model (settings `models.<name>`, set up by the server's admin) whose files are no model hidden
 * from the caller, or a hub id the registry lacks, which the runtime pulls first for a writer when
 * it pulls on first use (readers cannot make the server download). Judged on what the runtime
 * would load, so neither a configured name nor a hub id's spelling is a way around a model's
 * access level. @throws MODEL_NOT_FOUND, the same as for an absent model
 */
export async function runnableModel(ctx: ServerContext, caller: Caller, name: string): Promise<void> {
  const runtime = ctx.runtime;
  if (runtime?.configuredModel?.(name)) {
    if (caller.role === 'admin') return;
    // What is not there is absent for the caller too (its path is the admin's business).
    const where = await runtime.locateModel?.(name).catch(() => undefined);
    if (!where || (where.model && !canSee(caller, where.model))) throw modelNotFound(name);
    const hidden = await HiddenModels.of(ctx.registry, caller);
    if (hidden.overlaps(await realpath(where.path).catch(() => where.path))) throw modelNotFound(name);
    return;
  }
  try {
    await visibleModel(ctx, caller, name);
  } catch (error) {
    if (!isModelManagerError(error, 'MODEL_NOT_FOUND') || !runtime?.pull || !runtime.autoPull || !parseHubName(name) || caller.role === 'reader') throw error;
    // Registered but hidden from this caller: pulled for no one.
    if (await ctx.registry.lookupModel(name)) throw error;
    const outcome = await runtime.pull(name, { check: seenBy(caller, name) });
    await visibleModel(ctx, caller, outcome.modelId);
  }
}

/** A pull's check that refuses records the caller may not see, with the 404 of a missing model. */
export function seenBy(caller: Caller, name: string): (current: ModelMetadata) => void {
  return (current) => {
    if (!canSee(caller, current)) throw modelNotFound(name);
  };
}

/**
 * The real path of a model file or folder a caller names: inside the model roots, and not the
 * files of a model hidden from the caller (refused as if nothing were there, so they do not leak
 * and cannot be registered again under a name the caller sees).
 */
export async function callerModelPath(ctx: ServerContext, hidden: HiddenModels, path: string): Promise<string> {
  const real = await checkModelPath(path, ctx.modelRoots);
  if (hidden.overlaps(real)) throw pathNotFound(path);
  return real;
}

/**
 * The loaded models (of this server, or of any server in the cluster) the caller may see, with
 * their records; models loaded by path are an admin's business.
 */
export async function visibleEntries<T extends { model: string }>(ctx: ServerContext, caller: Caller, entries: readonly T[]): Promise<{ info: T; model: ModelMetadata | undefined }[]> {
  const visible = [];
  for (const info of entries) {
    const model = await ctx.registry.getModel(info.model).catch(() => undefined);
    if (model ? canSee(caller, model) : caller.role === 'admin') visible.push({ info, model });
  }
  return visible;
}

/** The models this server has loaded that the caller may see, with their records. */
export async function visibleLoaded(ctx: ServerContext, caller: Caller): Promise<{ info: LoadedModelLike; model: ModelMetadata | undefined }[]> {
  return visibleEntries(ctx, caller, ctx.runtime?.ps() ?? []);
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
