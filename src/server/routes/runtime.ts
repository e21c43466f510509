/**
 * Runtime routes: the seed's `task()` over HTTP, Ollama-style `/api/ps`, release, test-load,
 * and the machine's resources.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { formatCount } from '../../units.js';
import { canSee, requireRole } from '../auth/access.js';
import { requireRuntime, visibleModel, type ServerContext } from '../context.js';
import { anyObject, idParams, replies } from '../schemas.js';
import type { LoadedModelLike } from '../services.js';
import { defaultTaskType, runTask } from './tasks.js';

type IdParams = { id: string };

interface TaskBody {
  taskData: string | string[] | null;
  taskType: string;
  modelName: string;
  keepAlive?: number | string;
  keep_alive?: number | string;
  [param: string]: unknown;
}

const keepAliveSchema = {
  anyOf: [{ type: 'number' }, { type: 'string' }],
  description: 'minutes, or a duration such as "30s", "5m", "1h"; 0 frees the model after the task, -1 keeps it',
} as const;

export function registerRuntimeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ['runtime'];

  app.post<{ Body: TaskBody }>('/api/task', {
    schema: {
      tags, summary: 'Run a task (embedding, text_generation); taskData null preloads the model',
      body: {
        type: 'object', required: ['taskData', 'taskType', 'modelName'], additionalProperties: true,
        properties: {
          taskData: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4096 }, { type: 'null' }] },
          taskType: { type: 'string', minLength: 1 }, modelName: { type: 'string', minLength: 1 },
          numWorkers: { type: 'integer', minimum: 1, maximum: 64 }, device: { type: 'string' },
          keepAlive: keepAliveSchema, keep_alive: keepAliveSchema,
        },
      },
      response: replies({ type: 'object', properties: { success: { type: 'boolean' }, data: anyObject } }),
    },
  }, async (req) => {
    const { keep_alive, keepAlive, ...rest } = req.body;
    const data = await runTask(ctx, req.caller, { ...rest, keepAlive: keepAlive ?? keep_alive });
    return { success: true, data };
  });

  app.get('/api/ps', {
    schema: {
      tags, summary: 'Loaded models, with the fields of Ollama\'s /api/ps',
      response: replies({ type: 'object', properties: { models: { type: 'array', items: anyObject } } }),
    },
  }, async (req) => {
    const loaded = requireRuntime(ctx).ps();
    const models = [];
    for (const info of loaded) {
      const model = await ctx.registry.getModel(info.model).catch(() => undefined);
      if (model && !canSee(req.caller, model)) continue;
      if (!model && req.caller.role !== 'admin') continue;
      models.push(psEntry(info, model));
    }
    return { models };
  });

  app.post<{ Params: IdParams; Body: { force?: boolean } | undefined }>('/api/models/:id/release', {
    schema: {
      tags, summary: 'Free a loaded model now (force: even while requests use it)', params: idParams,
      body: { type: 'object', nullable: true, properties: { force: { type: 'boolean' } } },
      response: replies({ type: 'object', properties: { modelId: { type: 'string' }, released: { type: 'boolean' } } }),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'releasing a model');
    await visibleModel(ctx, req.caller, req.params.id);
    const released = await requireRuntime(ctx).releaseModel(req.params.id, { force: req.body?.force ?? false });
    return { modelId: req.params.id, released };
  });

  app.post<{ Params: IdParams }>('/api/models/:id/test-load', {
    schema: {
      tags, summary: 'Load the model once and free it: proves it runs here and records what loading cost', params: idParams,
      response: replies({ type: 'object', properties: { modelId: { type: 'string' }, ok: { type: 'boolean' }, loadTimeMs: { type: 'number' }, result: anyObject } }),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'test-loading a model');
    const model = await visibleModel(ctx, req.caller, req.params.id);
    const started = performance.now();
    const result = await runTask<Record<string, unknown>>(ctx, req.caller, { taskData: null, taskType: defaultTaskType(model), modelName: model.modelId, keepAlive: 0 });
    return { modelId: model.modelId, ok: true, loadTimeMs: Math.round(performance.now() - started), result };
  });

  app.get('/api/system/resources', {
    schema: { tags, summary: 'CPU, memory, the GPUs the runtime found (and why a GPU kind failed), and what it holds', response: replies(anyObject) },
  }, async () => {
    const memory = process.memoryUsage();
    const loaded = ctx.runtime?.ps() ?? [];
    return {
      cpu: { cores: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverage: loadavg() },
      memory: { totalBytes: totalmem(), freeBytes: freemem() },
      process: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, uptimeSeconds: Math.round(process.uptime()) },
      runtime: ctx.runtime
        ? { loadedModels: loaded.length, loadedBytes: loaded.reduce((n, m) => n + m.sizeBytes, 0), vramBytes: loaded.reduce((n, m) => n + m.sizeVram, 0) }
        : null,
      // Known once a load asked a backend for its GPUs: the kind in use, each device's memory, why each kind tried failed.
      gpus: ctx.runtime?.getStatus().gpus ?? [],
    };
  });
}

/** One `/api/ps` entry: Ollama's names (`size`, `size_vram`, `expires_at`, `details`) plus ours. */
function psEntry(info: LoadedModelLike, model: { format?: string; architecture: string; parameterCount?: number; quantization?: string } | undefined) {
  return {
    name: info.name,
    model: info.model,
    size: info.sizeBytes,
    size_vram: info.sizeVram,
    digest: '',
    expires_at: info.expiresAt,
    details: {
      format: model?.format ?? '',
      family: model?.architecture ?? '',
      parameter_size: model?.parameterCount !== undefined ? formatCount(model.parameterCount) : '',
      quantization_level: model?.quantization ?? '',
    },
    backend: info.backend,
    device: info.device,
    ...(info.gpuKind ? { gpu_kind: info.gpuKind } : {}),
    workers: info.workers,
    refs: info.refs,
    queue: info.queue,
    loaded_at: info.loadedAt,
    last_used_at: info.lastUsedAt,
  };
}
