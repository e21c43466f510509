/**
 * Runtime routes: the seed's `task()` over HTTP, Ollama-style `/api/ps`, release, test-load,
 * and the machine's resources.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { MAX_GENERATION_TOKENS, MAX_WORKERS } from '../../runtime/task-input.js';
import { formatCount } from '../../units.js';
import { requireRole } from '../auth/access.js';
import { requireRuntime, runnableModel, visibleLoaded, visibleModel, type ServerContext } from '../context.js';
import { anyObject, idParams, replies } from '../schemas.js';
import type { LoadedModelLike } from '../services.js';
import { defaultTaskType, runTask } from './tasks.js';

type IdParams = { id: string };

/**
 * task() as JSON, documented here and checked by the runtime alone (one path, the same limits and
 * messages as the library): the schema declares no types, so nothing is coerced or judged twice.
 */
const taskBody = {
  type: 'object',
  description: 'The fields of task(). The seed\'s spellings work too (task_data, task_type, model_name, num_workers, keep_alive, max_length, ...); ' +
    'a parameter the task type does not take is refused (INVALID_ARGUMENT naming it).',
  properties: {
    taskData: { description: 'texts to embed (a string or a list of strings), a prompt, or null to only load the model' },
    taskType: { description: 'embedding, text_generation, or a custom type a registered backend serves; defaults to a configured model\'s' },
    modelName: { description: 'registry id, or the name of a model configured in the server\'s settings' },
    numWorkers: { description: `instances serving the model, 1 to ${MAX_WORKERS}; applies when it loads` },
    device: { description: 'cpu, gpu, cuda:N or auto; applies when the model loads' },
    keepAlive: { description: 'minutes, or a duration such as "30s", "5m", "1h"; 0 frees the model after the task, -1 keeps it' },
    maxTokens: { description: `text_generation: most new tokens, 1 to ${MAX_GENERATION_TOKENS} (also maxLength, maxNewTokens)` },
    temperature: { description: 'text_generation: 0 (greedy, the default) or more' },
    topK: { description: 'text_generation' },
    topP: { description: 'text_generation, 0 to 1' },
    seed: { description: 'text_generation: repeatable sampling' },
    stop: { description: 'text_generation: a string or a list of strings that end the text' },
    pooling: { description: 'embedding: mean, cls or none' },
    normalize: { description: 'embedding: L2-normalise the vectors (default true)' },
    dimensions: { description: 'embedding: shorter vectors, for Matryoshka models only' },
    countTokens: { description: 'embedding: count the tokens the texts are read as (usage.tokens)' },
  },
} as const;

export function registerRuntimeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ['runtime'];

  app.post<{ Body: Record<string, unknown> }>('/api/task', {
    schema: {
      tags, summary: 'Run a task (embedding, text_generation); taskData null preloads the model; a client that hangs up cancels it',
      body: taskBody,
      response: replies({ type: 'object', properties: { success: { type: 'boolean' }, data: anyObject } }),
    },
  }, async (req, reply) => {
    const data = await runTask(ctx, req.caller, req.body, reply);
    return { success: true, data };
  });

  app.get('/api/ps', {
    schema: {
      tags, summary: 'Loaded models, with the fields of Ollama\'s /api/ps, and the requests running or queued in each',
      response: replies({ type: 'object', properties: { models: { type: 'array', items: anyObject } } }),
    },
  }, async (req) => {
    requireRuntime(ctx);
    return { models: (await visibleLoaded(ctx, req.caller)).map(({ info, model }) => psEntry(info, model)) };
  });

  app.post<{ Params: IdParams; Body: { force?: boolean } | undefined }>('/api/models/:id/release', {
    schema: {
      tags, summary: 'Free a loaded model now (force: even while requests use it)', params: idParams,
      body: { type: 'object', nullable: true, properties: { force: { type: 'boolean' } } },
      response: replies({ type: 'object', properties: { modelId: { type: 'string' }, released: { type: 'boolean' } } }),
    },
  }, async (req) => {
    requireRole(req.caller, 'writer', 'releasing a model');
    await runnableModel(ctx, req.caller, req.params.id);
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
  }, async (req) => {
    const memory = process.memoryUsage();
    const loaded = (await visibleLoaded(ctx, req.caller)).map(({ info }) => info);
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
    state: info.state,
    queue: info.queue,
    running: info.running,
    tasks: info.tasks.map((t) => ({ task_type: t.taskType, state: t.state, since: t.since, ...(t.maxTokens === undefined ? {} : { max_tokens: t.maxTokens }) })),
    loaded_at: info.loadedAt,
    last_used_at: info.lastUsedAt,
  };
}
