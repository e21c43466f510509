/**
 * Running a task for an HTTP caller: the request is checked once, as task() checks it (before the
 * model is looked up), the model must be a registry model the caller may see (never a path: a
 * client must not make the server open files), a model configured in the server's settings
 * whose files the caller may see, or a hub id a writer has the runtime pull on first use; the
 * server-wide keep-alive fills in when neither the request nor a configured model names one, the
 * task is cancelled when the client hangs up, and a failed `Result` becomes the error it stands for.
 */
import type { FastifyReply } from 'fastify';
import type { ModelMetadata } from '../../registry/schema.js';
import { parseTaskRequest } from '../../runtime/task-input.js';
import type { Caller } from '../auth/api-keys.js';
import { requireRuntime, runnableModel, type ServerContext } from '../context.js';
import { fromResultError } from '../errors.js';

/** The task a model does when none is named: embeddings for embedding models, else text generation. */
export function defaultTaskType(model: ModelMetadata): 'embedding' | 'text_generation' {
  const embeds = model.modelType === 'embedding_model' || model.capabilities.includes('embedding') || model.outputs.some((o) => o.dataType === 'EMBEDDINGS');
  return embeds ? 'embedding' : 'text_generation';
}

/**
 * Aborts when the client hangs up before its answer is complete: the response closes unfinished.
 * A generation no one waits for must not hold an instance (and the queue behind it) until its last token.
 */
export function hangUpSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Runs a task as the caller and returns its data; `request` is task()'s (the seed's spellings too).
 * With `reply`, the task is cancelled when that client hangs up.
 * @throws the task's error (INVALID_ARGUMENT, QUEUE_FULL, MODEL_NOT_FOUND, ...)
 */
export async function runTask<T = unknown>(ctx: ServerContext, caller: Caller, sent: Record<string, unknown>, reply?: FastifyReply): Promise<T> {
  const runtime = requireRuntime(ctx);
  const input = parseTaskRequest(sent, (name) => runtime.configuredModel?.(name));
  await runnableModel(ctx, caller, input.modelName);
  // What the server adds to the checked request (JSON can carry no AbortSignal: a sent one was refused).
  const result = await runtime.run({
    ...input,
    load: { ...input.load, keepAliveMs: input.load.keepAliveMs ?? ctx.keepAliveDefaultMs },
    ...(reply ? { signal: hangUpSignal(reply) } : {}),
  });
  if (!result.success) throw fromResultError(result.error);
  return result.data as T;
}
