/**
 * OpenAI-compatible routes, so existing clients and SDKs work against Model Manager:
 * /v1/models, /v1/embeddings, /v1/completions and /v1/chat/completions (with `stream: true`
 * as server-sent events). `keep_alive` is accepted as an extension, as Ollama does.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ModelManagerError } from '../../errors.js';
import type { Caller } from '../auth/api-keys.js';
import type { ModelMetadata } from '../../registry/index.js';
import { runnableModel, visibleModel, type ServerContext } from '../context.js';
import { toHttpError } from '../errors.js';
import { MAX_GENERATION_TOKENS } from '../../runtime/task-input.js';
import { anyObject, replies } from '../schemas.js';
import { listVisible } from './models.js';
import { runTask } from './tasks.js';

interface EmbeddingData { embeddings: number[][]; model: string; usage?: { tokens?: number } }
interface GenerationData { generatedText: string; model: string; tokens: number; promptTokens?: number; finishReason: 'stop' | 'length' }

/** A model as OpenAI's /v1/models describes one. */
function openAiModel(m: ModelMetadata): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id: m.modelId, object: 'model', created: Math.floor(Date.parse(m.createdAt ?? '1970-01-01T00:00:00Z') / 1000), owned_by: m.author ?? 'model-manager' };
}

/** A configured model (settings `models.<name>`) as /v1/models describes one: it exists since the server started. */
function openAiConfigured(ctx: ServerContext, id: string): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id, object: 'model', created: Math.floor(ctx.startedAt / 1000), owned_by: 'model-manager' };
}

/** The configured models the caller may run. */
async function runnableConfigured(ctx: ServerContext, caller: Caller): Promise<string[]> {
  const ids: string[] = [];
  for (const { id } of ctx.runtime?.configuredModels?.() ?? []) {
    if (await runnableModel(ctx, caller, id).then(() => true, () => false)) ids.push(id);
  }
  return ids;
}

/** OpenAI's clients send null for a field they leave to the server: null means "not set" throughout. */
interface GenerationBody {
  model: string;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  keep_alive?: number | string | null;
}
interface CompletionBody extends GenerationBody { prompt: string | string[] }
interface ChatMessage { role: string; content: string }
interface ChatBody extends GenerationBody { messages: ChatMessage[] }

const keepAlive = { anyOf: [{ type: 'number' }, { type: 'string' }, { type: 'null' }], description: 'extension: how long the model stays loaded (minutes or "5m")' } as const;
const maxTokens = { type: 'integer', minimum: 1, maximum: MAX_GENERATION_TOKENS, nullable: true } as const;
const generationProperties = {
  model: { type: 'string', minLength: 1 },
  max_tokens: maxTokens,
  max_completion_tokens: { ...maxTokens, description: 'the newer name of max_tokens; wins when both are set' },
  temperature: { type: 'number', minimum: 0, maximum: 2, nullable: true },
  top_p: { type: 'number', minimum: 0, maximum: 1, nullable: true },
  stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }, { type: 'null' }] },
  seed: { type: 'integer', nullable: true },
  stream: { type: 'boolean', nullable: true },
  stream_options: {
    type: 'object', nullable: true,
    properties: { include_usage: { type: 'boolean', nullable: true, description: 'send a last chunk with the usage (and no choices) before [DONE]' } },
  },
  keep_alive: keepAlive,
  user: { type: 'string', nullable: true },
  n: { type: 'integer', minimum: 1, maximum: 1, nullable: true },
} as const;

/** A plain transcript: the built-in backends complete text (no chat templates yet). */
function chatPrompt(messages: readonly ChatMessage[]): string {
  return `${messages.map((m) => `${m.role}: ${m.content}`).join('\n')}\nassistant:`;
}

function generationParams(body: GenerationBody): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (limit != null) params.maxTokens = limit;
  if (body.temperature != null) params.temperature = body.temperature;
  if (body.top_p != null) params.topP = body.top_p;
  if (body.stop != null) params.stop = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (body.seed != null) params.seed = body.seed;
  if (body.keep_alive != null) params.keepAlive = body.keep_alive;
  return params;
}

function usage(data: GenerationData) {
  const prompt = data.promptTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: data.tokens, total_tokens: prompt + data.tokens };
}

function floatsToBase64(values: readonly number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

interface StreamShape {
  /** The fields every chunk of this answer starts with (id, object, created, model). */
  head: Record<string, unknown>;
  /** The choice of a chunk for a piece of text (or of the closing chunk, with `finish`). */
  choice(text: string | undefined, finish: GenerationData['finishReason'] | null): unknown;
  /** The non-streaming answer. */
  whole(data: GenerationData): unknown;
}

/**
 * Runs a generation, as one JSON answer or as server-sent events. The event stream starts at the
 * first token, so failures before it (unknown model, full queue) are ordinary HTTP errors with
 * their status; a failure after it is sent as an `error` event before `[DONE]`. With
 * `stream_options.include_usage`, every chunk carries `usage: null` and a last chunk without
 * choices carries the usage, as OpenAI sends them. A client that hangs up cancels the generation.
 */
async function generate(ctx: ServerContext, caller: Caller, reply: FastifyReply, body: GenerationBody, taskData: string, shape: StreamShape) {
  const request = { taskType: 'text_generation', modelName: body.model, taskData, ...generationParams(body) };
  if (!body.stream) return shape.whole(await runTask<GenerationData>(ctx, caller, request, reply));
  const withUsage = body.stream_options?.include_usage === true;
  const chunk = (text: string | undefined, finish: GenerationData['finishReason'] | null) =>
    ({ ...shape.head, choices: [shape.choice(text, finish)], ...(withUsage ? { usage: null } : {}) });
  const raw = reply.raw;
  let started = false;
  const send = (event: unknown) => {
    if (!raw.destroyed && !raw.writableEnded) raw.write(`data: ${JSON.stringify(event)}\n\n`);
  };
  const start = () => {
    if (started) return;
    started = true;
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  };
  let data: GenerationData | undefined;
  try {
    data = await runTask<GenerationData>(ctx, caller, {
      ...request,
      onToken: (text: string) => {
        start();
        send(chunk(text, null));
      },
    }, reply);
  } catch (error) {
    if (!started) throw error;
    send({ error: toHttpError(error).body.error });
  }
  start();
  if (data) {
    send(chunk(undefined, data.finishReason));
    if (withUsage) send({ ...shape.head, choices: [], usage: usage(data) });
  }
  if (!raw.destroyed && !raw.writableEnded) raw.end('data: [DONE]\n\n');
  return reply;
}

export function registerOpenAiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ['openai'];

  app.get('/v1/models', {
    schema: {
      tags, summary: 'Models the caller may use, as OpenAI lists them',
      response: replies({ type: 'object', properties: { object: { type: 'string' }, data: { type: 'array', items: anyObject } } }),
    },
  }, async (req) => {
    const { models } = await listVisible(ctx, req.caller, {});
    const configured = await runnableConfigured(ctx, req.caller);
    return { object: 'list', data: [...configured.map((id) => openAiConfigured(ctx, id)), ...models.map(openAiModel)] };
  });

  // Ids hold slashes (`org/name`): OpenAI clients send them raw or encoded, so the id is the whole rest of the path.
  app.get<{ Params: { '*': string } }>('/v1/models/*', {
    schema: { tags, summary: 'One model the caller may use, as OpenAI describes it', response: replies(anyObject) },
  }, async (req) => {
    let id = req.params['*'];
    try {
      id = decodeURIComponent(id);
    } catch {
      // not percent-encoded after all: the raw text is the id
    }
    if (ctx.runtime?.configuredModel?.(id)) {
      await runnableModel(ctx, req.caller, id);
      return openAiConfigured(ctx, id);
    }
    return openAiModel(await visibleModel(ctx, req.caller, id));
  });

  app.post<{ Body: { model: string; input: string | string[]; encoding_format?: 'float' | 'base64' | null; dimensions?: number | null; keep_alive?: number | string | null } }>('/v1/embeddings', {
    schema: {
      tags, summary: 'Embeddings of one text or many',
      body: {
        type: 'object', required: ['model', 'input'],
        properties: {
          model: { type: 'string', minLength: 1 },
          input: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2048 }] },
          encoding_format: { type: 'string', enum: ['float', 'base64', null], nullable: true },
          dimensions: { type: 'integer', minimum: 1, nullable: true, description: 'shorter vectors (first values, normalised again): Matryoshka models only (a "matryoshka" tag), else 400' },
          user: { type: 'string', nullable: true },
          keep_alive: keepAlive,
        },
      },
      response: replies({
        type: 'object',
        properties: { object: { type: 'string' }, data: { type: 'array', items: anyObject }, model: { type: 'string' }, usage: anyObject },
      }),
    },
  }, async (req, reply) => {
    const { model, input, encoding_format: encoding, dimensions, keep_alive } = req.body;
    const texts = Array.isArray(input) ? input : [input];
    const data = await runTask<EmbeddingData>(ctx, req.caller, {
      taskType: 'embedding', modelName: model, taskData: texts, countTokens: true,
      ...(keep_alive == null ? {} : { keepAlive: keep_alive }),
      ...(dimensions == null ? {} : { dimensions }),
    }, reply);
    const tokens = data.usage?.tokens ?? 0;
    return {
      object: 'list',
      data: data.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? floatsToBase64(embedding) : embedding })),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  });

  app.post<{ Body: CompletionBody }>('/v1/completions', {
    schema: {
      tags, summary: 'Complete a prompt (stream: true sends server-sent events)',
      body: { type: 'object', required: ['model', 'prompt'], properties: { ...generationProperties, prompt: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1 }] } } },
      response: replies(anyObject),
    },
  }, async (req, reply) => {
    const id = `cmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = req.body.model;
    const prompt = Array.isArray(req.body.prompt) ? req.body.prompt[0]! : req.body.prompt;
    return generate(ctx, req.caller, reply, req.body, prompt, {
      head: { id, object: 'text_completion', created, model },
      choice: (text, finish) => ({ index: 0, text: text ?? '', logprobs: null, finish_reason: finish }),
      whole: (data) => ({
        id, object: 'text_completion', created, model,
        choices: [{ index: 0, text: data.generatedText, logprobs: null, finish_reason: data.finishReason }], usage: usage(data),
      }),
    });
  });

  app.post<{ Body: ChatBody }>('/v1/chat/completions', {
    schema: {
      tags, summary: 'Answer a conversation (stream: true sends server-sent events)',
      body: {
        type: 'object', required: ['model', 'messages'],
        properties: {
          ...generationProperties,
          messages: {
            type: 'array', minItems: 1, maxItems: 1000,
            items: { type: 'object', required: ['role', 'content'], properties: { role: { type: 'string', enum: ['system', 'user', 'assistant', 'developer', 'tool'] }, content: { type: 'string' } } },
          },
        },
      },
      response: replies(anyObject),
    },
  }, async (req, reply) => {
    if (req.body.messages.every((m) => m.role !== 'user')) {
      throw new ModelManagerError('INVALID_TASK_DATA', 'a chat needs at least one user message');
    }
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = req.body.model;
    let first = true;
    return generate(ctx, req.caller, reply, req.body, chatPrompt(req.body.messages), {
      head: { id, object: 'chat.completion.chunk', created, model },
      choice: (text, finish) => {
        const delta: Record<string, string> = first ? { role: 'assistant' } : {};
        first = false;
        if (text !== undefined) delta.content = text;
        return { index: 0, delta, finish_reason: finish };
      },
      whole: (data) => ({
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message: { role: 'assistant', content: data.generatedText }, finish_reason: data.finishReason }], usage: usage(data),
      }),
    });
  });
}
