/**
 * Registry routes: list with the filters of `mm list`, add, read, update, delete, versions,
 * rollback, metrics, search and stats. Hidden models are filtered out before paging.
 */
import type { FastifyInstance } from 'fastify';
import { ModelManagerError, isModelManagerError } from '../../errors.js';
import { mergePatch } from '../../registry/merge-patch.js';
import { manyOf, page, type ModelFilter, type SortField } from '../../registry/query.js';
import type { ModelMetadata } from '../../registry/schema.js';
import { isDeleted } from '../../registry/soft-delete.js';
import { validateModel } from '../../registry/validate.js';
import { parseQuantity } from '../../units.js';
import type { Caller } from '../auth/api-keys.js';
import { canSee, checkAccessResult, modelIdTaken, modelNotFound, requireRole, visibleFilter } from '../auth/access.js';
import { HiddenModels } from '../auth/hidden-models.js';
import { callerModelPath, visibleModel, visibleStored, type ServerContext } from '../context.js';
import { anyObject, idParams, listQuery, modelListSchema, modelRef, replies } from '../schemas.js';

export interface ListQuery {
  type?: string[]; arch?: string[]; tag?: string[]; input?: string[]; output?: string[]; attention?: string[];
  format?: string[]; source?: string[]; modality?: string[]; minParams?: string; maxParams?: string; fits?: string;
  limit?: number; offset?: number; sort?: SortField; order?: 'asc' | 'desc';
}

type IdParams = { id: string };

/** `?type=a&type=b` and `?type=a,b` both mean "a or b". */
function values(list: string[] | undefined): string[] | undefined {
  return manyOf(list?.flatMap((v) => v.split(',')).map((v) => v.trim()));
}

function quantity(text: string | undefined, what: string): number | undefined {
  return text === undefined || text === '' ? undefined : parseQuantity(text, what);
}

export function filterOf(q: ListQuery): ModelFilter {
  return {
    modelType: values(q.type), architecture: values(q.arch), tags: values(q.tag), inputType: values(q.input),
    outputType: values(q.output), attentionType: values(q.attention), format: values(q.format), source: values(q.source),
    minParams: quantity(q.minParams, 'minParams'), maxParams: quantity(q.maxParams, 'maxParams'), fitsBytes: quantity(q.fits, 'fits'),
    sort: q.sort, order: q.order, limit: q.limit, offset: q.offset,
  };
}

/** Models the caller may see that pass the filter, paged after hiding (so pages stay full). */
export async function listVisible(ctx: ServerContext, caller: Caller, q: ListQuery): Promise<{ models: ModelMetadata[]; total: number }> {
  const filter = { ...filterOf(q), ...visibleFilter(caller) };
  const modalities = values(q.modality)?.map((m) => m.toLowerCase());
  if (!modalities) {
    // The store filters, hides and pages with its indexes.
    const [models, total] = await Promise.all([ctx.registry.listModels(filter), ctx.registry.countModels(filter)]);
    return { models, total };
  }
  const all = await ctx.registry.listModels({ ...filter, limit: undefined, offset: undefined });
  const matching = all.filter((m) => m.modalities.some((x) => modalities.includes(x)));
  return { models: page(matching, filter), total: matching.length };
}

/** Refuses a localPath outside the model roots or at a hidden model's files; returns the record with the real path. */
async function checkLocalPath<T extends { localPath?: unknown }>(ctx: ServerContext, caller: Caller, record: T): Promise<T> {
  if (typeof record.localPath !== 'string') return record;
  return { ...record, localPath: await callerModelPath(ctx, await HiddenModels.of(ctx.registry, caller), record.localPath) };
}

/** Applies a merge patch as the caller, checking roots and access on the result. */
export async function patchModel(ctx: ServerContext, caller: Caller, id: string, patch: Record<string, unknown>, note: string): Promise<ModelMetadata> {
  requireRole(caller, 'writer', 'changing a model');
  await visibleModel(ctx, caller, id);
  if (patch.modelId !== undefined && patch.modelId !== id) {
    throw new ModelManagerError('INVALID_METADATA', 'modelId cannot be changed by an update (remove the model and add it under the new id)', {
      details: { issues: [{ field: 'modelId', reason: 'read-only' }] },
    });
  }
  const checked = await checkLocalPath(ctx, caller, patch);
  return ctx.registry.updateModel(
    id,
    (current) => {
      const next = validateModel({ ...mergePatch(current, checked), modelId: id });
      checkAccessResult(caller, next);
      return next;
    },
    note,
  );
}

/**
 * An add refused because a deleted model holds the id, told in this API's terms: how to restore
 * it or remove it for good. A deleted model the caller may not see is only an id that is taken.
 */
async function deletedHere(ctx: ServerContext, caller: Caller, modelId: string, error: ModelManagerError): Promise<ModelManagerError> {
  const stored = await ctx.registry.store.get(modelId);
  if (!stored || !canSee(caller, stored.model)) return modelIdTaken(modelId);
  const restore = error.details.restoreVersion;
  const path = `/api/models/${modelId}`;
  return new ModelManagerError('MODEL_EXISTS', `model "${modelId}" was deleted and its history kept: restore it with POST ${path}/rollback {"version": ${restore}}, or remove it for good with DELETE ${path}?hard=true (admin)`, {
    cause: error, details: error.details,
  });
}

export function registerModelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ['registry'];

  app.get<{ Querystring: ListQuery }>('/api/models', {
    schema: { tags, summary: 'List models, with the filters of `mm list`', querystring: listQuery, response: replies(modelListSchema) },
  }, async (req) => {
    const { models, total } = await listVisible(ctx, req.caller, req.query);
    return { count: models.length, total, models };
  });

  app.post<{ Body: Record<string, unknown> }>('/api/models', {
    schema: { tags, summary: 'Add a model (ModelMetadata; snake_case accepted by `mm add` only)', body: anyObject, response: replies(modelRef, 201) },
  }, async (req, reply) => {
    requireRole(req.caller, 'writer', 'adding a model');
    const record = validateModel(await checkLocalPath(ctx, req.caller, req.body));
    checkAccessResult(req.caller, record);
    reply.code(201);
    try {
      return await ctx.registry.addModel(record);
    } catch (error) {
      throw isModelManagerError(error, 'MODEL_EXISTS') && error.details.deleted === true ? await deletedHere(ctx, req.caller, record.modelId, error) : error;
    }
  });

  app.get<{ Params: IdParams }>('/api/models/:id', {
    schema: { tags, summary: 'One model (`id@3` or `id@alias` reads a version)', params: idParams, response: replies(modelRef) },
  }, async (req) => visibleModel(ctx, req.caller, req.params.id));

  app.put<{ Params: IdParams; Body: Record<string, unknown> }>('/api/models/:id', {
    schema: { tags, summary: 'Update a model with a JSON merge patch (null removes a field); makes a new version', params: idParams, body: anyObject, response: replies(modelRef) },
  }, async (req) => patchModel(ctx, req.caller, req.params.id, req.body, 'update'));

  app.delete<{ Params: IdParams; Querystring: { hard?: boolean } }>('/api/models/:id', {
    schema: {
      tags, params: idParams,
      summary: 'Delete a model: hidden from every read, its history kept (a rollback to `restoreVersion` restores it), as `mm delete`; `?hard=true` (admin only) removes it with its history for good, as `mm delete --hard`',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { hard: { type: 'boolean', description: 'remove the model and its history for good (admin only); defaults to false' } },
      },
      response: replies({
        type: 'object',
        properties: {
          modelId: { type: 'string' }, removed: { type: 'boolean' }, hard: { type: 'boolean' },
          restoreVersion: { type: 'integer', description: 'the version a rollback restores (a delete that is not hard)' },
        },
      }),
    },
  }, async (req) => {
    const { id } = req.params;
    if (req.query.hard === true) {
      // A delete for good takes the history every other user may need: an admin's decision.
      requireRole(req.caller, 'admin', 'removing a model and its history for good');
      await visibleStored(ctx, req.caller, id);
      return { modelId: id, removed: await ctx.registry.deleteModel(id, { hard: true }), hard: true };
    }
    requireRole(req.caller, 'writer', 'deleting a model');
    const stored = await visibleStored(ctx, req.caller, id);
    if (isDeleted(stored.model) || !(await ctx.registry.deleteModel(id))) throw modelNotFound(id);
    return { modelId: id, removed: true, hard: false, restoreVersion: stored.version };
  });

  app.get<{ Params: IdParams }>('/api/models/:id/versions', {
    schema: {
      tags, summary: 'Numbered versions of a model, oldest first; also of a deleted one (`deleted: true`), to restore it from', params: idParams,
      response: replies({
        type: 'object',
        properties: { modelId: { type: 'string' }, deleted: { type: 'boolean' }, versions: { type: 'array', items: { $ref: 'VersionInfo#' } } },
      }),
    },
  }, async (req) => {
    const stored = await visibleStored(ctx, req.caller, req.params.id);
    return { modelId: req.params.id, deleted: isDeleted(stored.model), versions: await ctx.registry.listVersions(req.params.id) };
  });

  app.get<{ Params: IdParams & { version: number } }>('/api/models/:id/versions/:version', {
    schema: {
      tags, summary: 'A model as it was at one version',
      params: { type: 'object', required: ['id', 'version'], properties: { ...idParams.properties, version: { type: 'integer', minimum: 1 } } },
      response: replies(modelRef),
    },
  }, async (req) => {
    await visibleStored(ctx, req.caller, req.params.id);
    return ctx.registry.getVersion(req.params.id, req.params.version);
  });

  app.post<{ Params: IdParams; Body: { version: number | string } }>('/api/models/:id/rollback', {
    schema: {
      tags, summary: 'Make a new version equal to an old one (a number or an alias); restores a deleted model', params: idParams,
      body: { type: 'object', required: ['version'], properties: { version: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', minLength: 1 }] } } },
      response: replies(modelRef),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'rolling a model back');
    await visibleStored(ctx, req.caller, req.params.id);
    return ctx.registry.rollback(req.params.id, req.body.version, { check: (next) => checkAccessResult(req.caller, next) });
  });

  const metricsSchema = {
    type: 'object',
    properties: {
      modelId: { type: 'string' },
      qualityMetrics: { type: 'array', items: anyObject },
      performanceMetrics: { type: 'object', additionalProperties: { type: 'number' } },
      memoryEstimate: anyObject,
      measured: anyObject,
    },
  } as const;

  app.get<{ Params: IdParams }>('/api/models/:id/metrics', {
    schema: { tags, summary: 'Quality and performance metrics, the memory estimate and what the runtime measured', params: idParams, response: replies(metricsSchema) },
  }, async (req) => {
    const m = await visibleModel(ctx, req.caller, req.params.id);
    return { modelId: m.modelId, qualityMetrics: m.qualityMetrics, performanceMetrics: m.performanceMetrics, memoryEstimate: m.memoryEstimate, measured: m.measured };
  });

  app.post<{ Params: IdParams; Body: { name?: string; value?: number; shots?: number; source?: string; performance?: Record<string, number> } }>('/api/models/:id/metrics', {
    schema: {
      tags, summary: 'Record a quality metric ({name, value, shots?, source?}) or performance numbers ({performance: {...}})', params: idParams,
      body: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1 }, value: { type: 'number' }, shots: { type: 'integer', minimum: 0 }, source: { type: 'string' },
          performance: { type: 'object', additionalProperties: { type: 'number' } },
        },
        additionalProperties: false,
      },
      response: replies(modelRef),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'recording metrics');
    await visibleModel(ctx, req.caller, req.params.id);
    const { name, value, shots, source, performance } = req.body;
    if (performance) return ctx.registry.addPerformanceMetrics(req.params.id, performance);
    if (name === undefined || value === undefined) {
      throw new ModelManagerError('INVALID_ARGUMENT', 'send {name, value} for a quality metric or {performance: {...}} for performance numbers');
    }
    return ctx.registry.addQualityMetric({ modelId: req.params.id, name, value, shots, source });
  });

  app.get<{ Querystring: { q: string; limit?: number } }>('/api/search', {
    schema: {
      tags, summary: 'Text search over names, tags and descriptions, best first',
      querystring: { type: 'object', required: ['q'], properties: { q: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
      response: replies({
        type: 'object',
        properties: { count: { type: 'integer' }, hits: { type: 'array', items: { type: 'object', properties: { score: { type: 'number' }, model: modelRef } } } },
      }),
    },
  }, async (req) => {
    const limit = req.query.limit ?? 50;
    const admin = req.caller.role === 'admin';
    const found = await ctx.registry.searchModels(req.query.q, { limit: admin ? limit : 10_000 });
    const hits = admin ? found : found.filter((h) => canSee(req.caller, h.model)).slice(0, limit);
    return { count: hits.length, hits };
  });

  app.get('/api/stats', {
    schema: { tags, summary: 'Counts by type, architecture, attention, format and source', response: replies(anyObject) },
  }, async (req) => ctx.registry.getStats(visibleFilter(req.caller)));
}
