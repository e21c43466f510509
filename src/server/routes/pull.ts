/**
 * `POST /api/pull`: a hub id into the server's HF cache and registry, with progress as NDJSON
 * lines (`{status, file, completed, total}`), in the style of Ollama's pull. And the rule for
 * tasks naming a hub id the registry lacks: a caller who may add models (writer) gets it pulled
 * first when the runtime pulls on first use; anyone else gets the 404 of a missing model.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ModelManagerError } from '../../errors.js';
import { requireRole } from '../auth/access.js';
import { requireRuntime, seenBy, type ServerContext } from '../context.js';
import { toHttpError } from '../errors.js';
import { anyObject, replies } from '../schemas.js';
import type { PullOutcomeLike, PullProgressLike, RuntimeService } from '../services.js';

interface PullBody {
  /** `org/name` or `org/name:variant`; `name` is Ollama's older spelling. */
  model?: string;
  name?: string;
  revision?: string;
  include?: string[];
  exclude?: string[];
  dryRun?: boolean;
  /** false: one JSON answer at the end instead of the NDJSON stream. Defaults to true. */
  stream?: boolean;
}

function pullingRuntime(ctx: ServerContext): RuntimeService & Required<Pick<RuntimeService, 'pull'>> {
  const runtime = requireRuntime(ctx);
  if (!runtime.pull) throw new ModelManagerError('NOT_ENABLED', 'this server\'s runtime cannot pull models; start it with `mm serve`');
  return runtime as RuntimeService & Required<Pick<RuntimeService, 'pull'>>;
}

/** The outcome as the last line (or the whole answer) of a pull: the registry id and the pull's facts. */
function summary(outcome: PullOutcomeLike): Record<string, unknown> {
  return { status: 'success', modelId: outcome.modelId, action: outcome.action, ...outcome.pull };
}

/** Streams the pull as NDJSON from its first bytes on; failures before that are plain HTTP errors. */
async function streamPull(reply: FastifyReply, run: (onProgress: (event: PullProgressLike) => void) => Promise<PullOutcomeLike>): Promise<FastifyReply> {
  const raw = reply.raw;
  const pending: PullProgressLike[] = [];
  let started = false;
  const send = (line: unknown) => {
    if (!raw.destroyed && !raw.writableEnded) raw.write(`${JSON.stringify(line)}\n`);
  };
  const onProgress = (event: PullProgressLike) => {
    // The stream starts with the first bytes: a refusal of the files themselves (a gated repo) is still a plain 401.
    if (!started && event.status !== 'downloading') {
      pending.push(event);
      return;
    }
    if (!started) {
      started = true;
      reply.hijack();
      raw.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      pending.splice(0).forEach(send);
    }
    send(event);
  };
  let outcome: PullOutcomeLike;
  try {
    outcome = await run(onProgress);
  } catch (error) {
    if (!started) throw error;
    send({ status: 'error', error: toHttpError(error).body.error });
    raw.end();
    return reply;
  }
  if (!started) return reply.header('content-type', 'application/x-ndjson; charset=utf-8').send([...pending, summary(outcome)].map((l) => JSON.stringify(l)).join('\n') + '\n');
  send(summary(outcome));
  raw.end();
  return reply;
}

export function registerPullRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: PullBody }>('/api/pull', {
    schema: {
      tags: ['runtime'],
      summary: 'Download a Hugging Face model (org/name or org/name:variant) into the HF cache and register it; progress as NDJSON lines {status, file, completed, total}',
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          model: { type: 'string', minLength: 1, maxLength: 300 }, name: { type: 'string', minLength: 1, maxLength: 300 },
          revision: { type: 'string', minLength: 1, maxLength: 200 },
          include: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 }, exclude: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 },
          dryRun: { type: 'boolean' }, stream: { type: 'boolean' },
        },
      },
      response: replies(anyObject),
    },
  }, async (req, reply) => {
    requireRole(req.caller, 'writer', 'pulling a model');
    const name = req.body.model ?? req.body.name;
    if (name === undefined) throw new ModelManagerError('INVALID_ARGUMENT', 'name the model to pull: {"model": "org/name"} (or "org/name:Q4_K_M")');
    const runtime = pullingRuntime(ctx);
    const { revision, include, exclude, dryRun } = req.body;
    // An entry the caller may not see is pulled for no one: the same 404 as a missing model.
    const options = { ...(revision ? { revision } : {}), ...(include ? { include } : {}), ...(exclude ? { exclude } : {}), ...(dryRun ? { dryRun } : {}), check: seenBy(req.caller, name) };
    if (req.body.stream === false) return summary(await runtime.pull(name, options));
    return streamPull(reply, (onProgress) => runtime.pull(name, { ...options, onProgress }));
  });
}
