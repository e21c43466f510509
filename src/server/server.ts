/**
 * The HTTP server: one fastify app with the registry, discovery and runtime behind it,
 * access control, rate limits, metrics, the OpenAPI document at /docs and the web UI at /.
 */
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyContextConfig, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { config as processConfig } from '../config.js';
import { ModelManagerError } from '../errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../json-depth.js';
import type { Registry } from '../registry/registry.js';
import { parseKeepAlive } from '../runtime/keep-alive.js';
import { OPEN_CALLER, type ApiKeys, type Caller } from './auth/api-keys.js';
import type { ServerContext } from './context.js';
import { fromClientError, toHttpError } from './errors.js';
import { ServerMetrics } from './metrics.js';
import { resolveModelRoots } from './model-roots.js';
import { canonicalModelUrl } from './model-urls.js';
import { requestValidators } from './request-validators.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerDiscoveryRoutes } from './routes/discovery.js';
import { registerModelRoutes } from './routes/models.js';
import { registerOpenAiRoutes } from './routes/openai.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerPullRoutes } from './routes/pull.js';
import { registerRuntimeRoutes } from './routes/runtime.js';
import { SHARED_SCHEMAS } from './schemas.js';
import type { DiscoveryService, RuntimeService } from './services.js';
import { uiRoot } from './ui-assets.js';

export interface RateLimitOptions {
  /** Requests per window for each API key (or client address without auth). Defaults to 600. */
  max?: number;
  /** Window length in milliseconds. Defaults to 60000. */
  windowMs?: number;
}

export interface CreateServerOptions {
  registry: Registry;
  /** Discovery behind /api/models/discovery/*; those routes answer 501 without it. */
  discovery?: DiscoveryService;
  /** The runtime behind /api/task, /api/ps and /v1/*; those routes answer 501 without it. */
  runtime?: RuntimeService;
  /** API keys; without them the server is open and every caller is an admin. Defaults to none. */
  auth?: ApiKeys;
  /** Folders paths may be registered from (symlinks resolved). Defaults to none: no path can be registered. */
  modelRoots?: readonly string[];
  /** Largest request body in bytes. Defaults to 1 MiB. */
  bodyLimit?: number;
  /** Per-key request limits, or false for none. Defaults to 600 requests a minute. */
  rateLimit?: RateLimitOptions | false;
  /** Keep-alive of models used by a request that names none (minutes or "5m"; checked when the server is created). Defaults to the runtime's own. */
  keepAliveDefault?: number | string;
  /** fastify logger setting. Defaults to false (quiet, for tests and embedding). */
  logger?: FastifyServerOptions['logger'];
  /** This machine's id in a registry several hosts share. Defaults to `MM_HOST_ID`, else the hostname. */
  hostId?: string;
}

/** The caller of public paths (UI, docs, health) on a server with keys: it may read nothing through the API. */
const ANONYMOUS: Caller = Object.freeze({ user: 'anonymous', role: 'reader', groups: Object.freeze([]) });

const UI_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Anyone may call the route, key or not: the UI, its assets, the API docs and the health check. Every other route needs a key. */
    public?: boolean;
    /** The route serves the API docs page, whose own scripts and styles the UI's policy would block. */
    docsPage?: boolean;
  }
}

/**
 * Access is decided by the route the router matched (its `config`), never by how the URL is
 * spelled: `/%61pi/models` is routed to `/api/models` and needs a key like it. A request no
 * route matches goes to the 404 handler, which answers nothing but 404.
 */
function isPublic(req: FastifyRequest): boolean {
  return req.routeOptions.config.public === true;
}

/** Marks every route registered in this context (and its children) with `config`. */
function markRoutes(app: FastifyInstance, config: FastifyContextConfig): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, ...config };
  });
}

function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '');
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key : undefined;
}

/** Answers a request Node's parser refused (431, 408, 400) with the error shape, then closes the connection. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const { status, headers, body } = toHttpError(fromClientError(error));
  const text = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  // Closed once written, even when the client never reads or hangs up.
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`, () => socket.destroy());
}

/** Builds the app; test it with `app.inject()`, or `app.listen()` it. */
export async function createServer({
  registry,
  discovery,
  runtime,
  auth,
  modelRoots = [],
  bodyLimit = 1024 * 1024,
  rateLimit: limits = {},
  keepAliveDefault,
  logger = false,
  hostId = processConfig().hostId,
}: CreateServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    bodyLimit,
    // A request (headers and body) must arrive within 30 s: slow senders cannot hold sockets open.
    // Answers are not bounded by it, so long generations and streams are unaffected.
    requestTimeout: 30_000,
    rewriteUrl: (req) => canonicalModelUrl(req.url ?? '/'),
    // Long enough for the longest model id with every character percent-encoded, plus `@alias`.
    routerOptions: { maxParamLength: 1024 },
    clientErrorHandler: answerClientError,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
    schemaController: { compilersFactory: { buildValidator: requestValidators() } },
  });
  const ctx: ServerContext = {
    registry,
    discovery,
    runtime,
    modelRoots: await resolveModelRoots(modelRoots),
    keepAliveDefaultMs: keepAliveDefault === undefined ? undefined : parseKeepAlive(keepAliveDefault),
    metrics: new ServerMetrics(),
    startedAt: Date.now(),
    hostId,
  };
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  // Keys that follow their file stop following it with the server.
  app.addHook('onClose', async () => auth?.close());
  // Decorated empty (fastify forbids shared objects as defaults), filled first thing in every request.
  app.decorateRequest('caller');
  app.addHook('onRequest', async (req, reply) => {
    ctx.metrics.requestStarted();
    req.caller = auth ? ANONYMOUS : OPEN_CALLER;
    if (!auth || isPublic(req) || req.is404) return;
    const key = presentedKey(req.headers);
    const caller: Caller | undefined = key === undefined ? undefined : auth.authenticate(key);
    if (!caller) {
      reply.header('www-authenticate', 'Bearer realm="model-manager"');
      throw new ModelManagerError('UNAUTHORIZED', key === undefined
        ? 'this server needs an API key: send "Authorization: Bearer <key>" (create one with `mm serve keys add <user>`)'
        : 'the API key is not valid; ask an admin for a new one');
    }
    req.caller = caller;
  });
  // Routes copy, merge and store bodies recursively; a body nested deeper than any real record is refused first.
  app.addHook('preValidation', async (req) => {
    if (jsonDepthExceeds(req.body)) {
      throw new ModelManagerError('INVALID_ARGUMENT', `the request body is nested more than ${MAX_JSON_DEPTH} levels deep`, { details: { maxDepth: MAX_JSON_DEPTH } });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.requestFinished(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  // A client that hangs up before its answer gets no onResponse; counted as 499, as nginx does.
  app.addHook('onRequestAbort', async (req) => {
    ctx.metrics.requestFinished(req.method, req.routeOptions.url ?? 'unmatched', 499);
  });

  // The UI renders model data as text nodes only; the policy makes sure nothing else ever runs.
  app.addHook('onSend', async (req, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html') && req.routeOptions.config.docsPage !== true) {
      reply.header('content-security-policy', UI_CSP);
    }
    reply.header('x-content-type-options', 'nosniff');
  });

  app.setErrorHandler((error, req, reply) => {
    const http = toHttpError(error);
    if (http.status >= 500) req.log.error({ err: error }, 'request failed');
    return reply.code(http.status).headers(http.headers).send(http.body);
  });
  app.setNotFoundHandler(async (req) => {
    throw new ModelManagerError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}; the API is described at /docs`);
  });

  if (limits !== false) {
    const { max = 600, windowMs = 60_000 } = limits;
    // preHandler, so the key's owner is known; the UI, docs and health checks are never limited.
    await app.register(rateLimit, {
      hook: 'preHandler',
      timeWindow: windowMs,
      max: (req) => req.caller.rateLimitPerMinute !== undefined ? Math.round((req.caller.rateLimitPerMinute * windowMs) / 60_000) : max,
      keyGenerator: (req) => req.caller.keyId ?? req.ip,
      allowList: isPublic,
      errorResponseBuilder: (_req, context) => new ModelManagerError('RATE_LIMITED', `too many requests: at most ${context.max} per ${context.after}; retry later`, {
        details: { limit: context.max, retryAfterSeconds: Math.ceil(context.ttl / 1000) },
      }),
    });
  }

  await app.register(swagger, {
    openapi: {
      info: { title: 'Model Manager API', version: '1', description: 'Registry, discovery, runtime and OpenAI-compatible endpoints. Send `Authorization: Bearer <key>` when the server has API keys.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: auth ? [{ apiKey: [] }] : [],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(async (docs) => {
    markRoutes(docs, { public: true, docsPage: true });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });

  registerModelRoutes(app, ctx);
  registerDiscoveryRoutes(app, ctx);
  registerRuntimeRoutes(app, ctx);
  registerClusterRoutes(app, ctx);
  registerOpenAiRoutes(app, ctx);
  registerOpsRoutes(app, ctx);
  registerPullRoutes(app, ctx);
  await app.register(async (ui) => {
    markRoutes(ui, { public: true });
    await ui.register(fastifyStatic, { root: uiRoot(), prefix: '/', wildcard: false, index: 'index.html' });
  });
  return app;
}
