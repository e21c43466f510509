/**
 * Discovery and metadata routes at the paths of the discovery seed: refresh, status, logs,
 * discovered models, registering a path, metadata (one and bulk), category and validation.
 */
import type { FastifyInstance } from 'fastify';
import { toModelManagerError } from '../../errors.js';
import type { ModelMetadataInput } from '../../registry/schema.js';
import { fromSnakeCase } from '../../registry/transfer.js';
import { canSee, checkAccessResult, modelIdTaken, requireRole } from '../auth/access.js';
import { HiddenModels } from '../auth/hidden-models.js';
import { callerModelPath, requireDiscovery, visibleModel, type ServerContext } from '../context.js';
import { checkModelPath } from '../model-roots.js';
import { anyObject, idParams, modelRef, replies } from '../schemas.js';
import { patchModel } from './models.js';

type IdParams = { id: string };

/** Log entries read when some are to be left out for the caller: the most the logs route serves. */
const LOG_ENTRIES_READ = 10_000;

interface RegisterBody {
  path: string;
  modelId?: string;
  name?: string;
  modalities?: string[];
  capabilities?: string[];
  metadata?: Record<string, unknown>;
}

/** The seed writes `display_name`; the registry speaks camelCase. Nulls survive only in camelCase patches. */
function camelPatch(patch: Record<string, unknown>): Record<string, unknown> {
  return Object.keys(patch).some((k) => k.includes('_')) ? (fromSnakeCase(patch) as Record<string, unknown>) : patch;
}

export function registerDiscoveryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ['discovery'];

  app.post<{ Body: { roots?: string[] } | undefined }>('/api/models/discovery/refresh', {
    schema: {
      tags, summary: 'Scan the model roots now (or the given folders inside them) and update the registry',
      body: { type: 'object', nullable: true, properties: { roots: { type: 'array', items: { type: 'string' } } }, additionalProperties: false },
      response: replies(anyObject),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'running a discovery scan');
    const discovery = requireDiscovery(ctx);
    const asked = req.body?.roots;
    const roots = asked ? await Promise.all(asked.map((r) => checkModelPath(r, ctx.modelRoots))) : undefined;
    const report = await discovery.refresh(roots ? { roots } : {});
    const hidden = await HiddenModels.of(ctx.registry, req.caller);
    return {
      ...report,
      modelIds: report.modelIds.filter((id) => !hidden.hasId(id)),
      warnings: report.warnings.filter((w) => !hidden.owns(w.path) && !hidden.mentions(w.reason)),
    };
  });

  app.get('/api/models/discovery/status', {
    schema: { tags, summary: 'Whether a scan runs, the last scan, the next one and the roots', response: replies(anyObject) },
  }, async () => requireDiscovery(ctx).status());

  app.get<{ Querystring: { limit?: number } }>('/api/models/discovery/logs', {
    schema: {
      tags, summary: 'Scan log, newest first',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 10000 } } },
      response: replies({ type: 'object', properties: { logs: { type: 'array', items: anyObject } } }),
    },
  }, async (req) => {
    const discovery = requireDiscovery(ctx);
    const limit = req.query.limit ?? 200;
    const hidden = await HiddenModels.of(ctx.registry, req.caller);
    if (hidden.size === 0) return { logs: await discovery.logs({ limit }) };
    // Entries about models the caller may not see are left out, then the page is cut: it stays full.
    const logs = await discovery.logs({ limit: LOG_ENTRIES_READ });
    return { logs: logs.filter((e) => !(e.path !== undefined && hidden.owns(e.path)) && !hidden.mentions(e.message)).slice(0, limit) };
  });

  app.get('/api/models/discovered', {
    schema: {
      tags, summary: 'Models discovery put in the registry',
      response: replies({ type: 'object', properties: { count: { type: 'integer' }, models: { type: 'array', items: modelRef } } }),
    },
  }, async (req) => {
    const models = (await requireDiscovery(ctx).discovered()).filter((m) => canSee(req.caller, m));
    return { count: models.length, models };
  });

  app.post<{ Body: RegisterBody }>('/api/models/register', {
    schema: {
      tags, summary: 'Register one model folder or file (it must lie inside the server\'s model roots)',
      body: {
        type: 'object',
        required: ['path'],
        properties: {
          path: { type: 'string', minLength: 1 }, modelId: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' },
          modalities: { type: 'array', items: { type: 'string' } }, capabilities: { type: 'array', items: { type: 'string' } },
          metadata: anyObject,
        },
      },
      response: replies(modelRef, 201),
    },
  }, async (req, reply) => {
    requireRole(req.caller, 'writer', 'registering a model');
    const discovery = requireDiscovery(ctx);
    // The files of a model the caller may not see are answered as if nothing were there.
    const hidden = await HiddenModels.of(ctx.registry, req.caller);
    const path = await callerModelPath(ctx, hidden, req.body.path);
    const { modelId, name, modalities, capabilities, metadata = {} } = req.body;
    const overrides = { ...camelPatch(metadata) } as Partial<ModelMetadataInput>;
    if (modelId) overrides.modelId = modelId;
    if (name) overrides.modelName = name;
    if (modalities) overrides.modalities = modalities.map((m) => m.toLowerCase()) as ModelMetadataInput['modalities'];
    if (capabilities) overrides.capabilities = capabilities.map((c) => c.toLowerCase());
    if (typeof overrides.localPath === 'string') overrides.localPath = await callerModelPath(ctx, hidden, overrides.localPath);
    if (typeof overrides.modelId === 'string' && hidden.hasId(overrides.modelId)) throw modelIdTaken(overrides.modelId);
    const saved = await discovery.register(path, overrides, { check: (next) => checkAccessResult(req.caller, next) });
    reply.code(201);
    return saved;
  });

  app.put<{ Params: IdParams; Body: Record<string, unknown> }>('/api/models/:id/metadata', {
    schema: { tags, summary: 'Update metadata (merge patch; snake_case keys accepted as in the seed)', params: idParams, body: anyObject, response: replies(modelRef) },
  }, async (req) => patchModel(ctx, req.caller, req.params.id, camelPatch(req.body), 'metadata'));

  app.post<{ Body: { updates: { modelId?: string; model_id?: string; metadata: Record<string, unknown> }[] } }>('/api/models/metadata/bulk-update', {
    schema: {
      tags, summary: 'Update many models; each update succeeds or fails on its own',
      body: {
        type: 'object',
        required: ['updates'],
        properties: {
          updates: {
            type: 'array', maxItems: 1000,
            items: { type: 'object', required: ['metadata'], properties: { modelId: { type: 'string' }, model_id: { type: 'string' }, metadata: anyObject } },
          },
        },
      },
      response: replies({
        type: 'object',
        properties: {
          updated: { type: 'array', items: { type: 'string' } },
          failed: { type: 'array', items: { type: 'object', properties: { modelId: { type: 'string' }, error: anyObject } } },
        },
      }),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'updating models');
    const updated: string[] = [];
    const failed: { modelId: string; error: Record<string, unknown> }[] = [];
    for (const u of req.body.updates) {
      const id = u.modelId ?? u.model_id ?? '';
      try {
        await patchModel(ctx, req.caller, id, camelPatch(u.metadata), 'bulk metadata');
        updated.push(id);
      } catch (error) {
        failed.push({ modelId: id, error: toModelManagerError(error).toJSON() });
      }
    }
    return { updated, failed };
  });

  app.put<{ Params: IdParams; Body: { primary: string; secondary?: string; specialization?: string } }>('/api/models/:id/category', {
    schema: {
      tags, summary: 'Set the category by hand (discovery then leaves it alone)', params: idParams,
      body: {
        type: 'object', required: ['primary'], additionalProperties: false,
        properties: { primary: { type: 'string', minLength: 1 }, secondary: { type: 'string' }, specialization: { type: 'string' } },
      },
      response: replies(modelRef),
    },
  }, async (req) => {
    // Replaces the whole category: a field left out is cleared, not kept from before.
    const { primary, secondary = null, specialization = null } = req.body;
    return patchModel(ctx, req.caller, req.params.id, { category: { primary, secondary, specialization, manual: true } }, 'category');
  });

  app.get<{ Params: IdParams }>('/api/models/:id/validate', {
    schema: { tags, summary: 'Check that the model\'s files are there and readable', params: idParams, response: replies(anyObject) },
  }, async (req) => {
    await visibleModel(ctx, req.caller, req.params.id);
    return requireDiscovery(ctx).validate(req.params.id);
  });
}
