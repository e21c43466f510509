/**
 * Running a task for an HTTP caller: the model must be a registry model the caller may see
 * (never a path: a client must not make the server open files) or a hub id a writer has the
 * runtime pull on first use, the server-wide keep-alive fills in when the request names none,
 * and a failed `Result` becomes the error it stands for.
 */
import type { ModelMetadata } from '../../registry/schema.js';
import type { Caller } from '../auth/api-keys.js';
import { requireRuntime, type ServerContext } from '../context.js';
import { fromResultError } from '../errors.js';
import type { TaskRequestLike } from '../services.js';
import { runnableModel } from './pull.js';

/** The task a model does when none is named: embeddings for embedding models, else text generation. */
export function defaultTaskType(model: ModelMetadata): 'embedding' | 'text_generation' {
  const embeds = model.modelType === 'embedding_model' || model.capabilities.includes('embedding') || model.outputs.some((o) => o.dataType === 'EMBEDDINGS');
  return embeds ? 'embedding' : 'text_generation';
}

/** Runs a task as the caller and returns its data. @throws the task's error (QUEUE_FULL, MODEL_NOT_FOUND, ...) */
export async function runTask<T = unknown>(ctx: ServerContext, caller: Caller, request: TaskRequestLike): Promise<T> {
  const runtime = requireRuntime(ctx);
  await runnableModel(ctx, caller, request.modelName);
  const keepAlive = request.keepAlive ?? ctx.keepAliveDefault;
  const result = await runtime.task(keepAlive === undefined ? request : { ...request, keepAlive });
  if (!result.success) throw fromResultError(result.error);
  return result.data as T;
}
