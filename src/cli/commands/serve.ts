import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ClusterMembership, describeHost, loadedModels } from '../../cluster/index.js';
import { config } from '../../config.js';
import { Discovery } from '../../discovery/index.js';
import { ModelManagerError } from '../../errors.js';
import { ModelManager, parseKeepAlive, type KeepAlive } from '../../runtime/index.js';
import { createServer } from '../../server/index.js';
import { openRegistry, settingsOf, withSettingsOptions } from '../context.js';
import { countOption, listOption, parsedOption, portOption, sizeOption } from '../options.js';
import { printJson } from '../output.js';
import type { Program } from '../program.js';
import { authRequested, loadAuth, registerKeyCommands } from './serve-keys.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The URL other hosts reach this server at: --url, else the listen address (with the hostname for a wildcard one). */
function advertisedUrl(o: { url?: string; host: string }, address: string): string {
  if (o.url) return o.url.replace(/\/+$/, '');
  return o.host === '0.0.0.0' || o.host === '::' ? address.replace(/\/\/(\[::\]|0\.0\.0\.0)/, `//${hostname()}`) : address;
}

/** `--heartbeat 5s`: a duration with its unit, of at least 50 ms, in milliseconds. */
function heartbeatOption(value: string, name: string): number {
  const ms = /[a-z]\s*$/i.test(value) ? parseKeepAlive(value) : NaN;
  if (!Number.isFinite(ms) || ms < 50) {
    throw new ModelManagerError('INVALID_ARGUMENT', `${name} takes a duration of at least 50ms, e.g. 5s, not "${value}"`, { details: { option: name, value } });
  }
  return ms;
}

/** Where models may be registered from when neither --model-root nor discovery names them: the known stores that exist. */
function defaultModelRoots(): string[] {
  const cfg = config();
  return [resolve('models'), cfg.hf.hubCache, cfg.ollamaModels, cfg.lmStudioModels].filter((p) => existsSync(p));
}

/** `--keep-alive 5m`, `10` (minutes) or `-1`, checked now rather than when the first model loads. */
function keepAliveOption(value: string): KeepAlive {
  parseKeepAlive(value);
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

export function register(program: Program): void {
  const serve = withSettingsOptions(program.command('serve'))
    .description('run the HTTP API (OpenAPI at /docs) and the web UI (/)')
    .addOption(portOption('--port <n>', 'port (0 picks a free one)').default(8080))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--auth', 'require API keys (from MM_API_KEYS_FILE or MM_HOME/api-keys.json)')
    .option('--keys-file <path>', 'require API keys from this file (implies --auth)')
    .addOption(listOption('--model-root <dir>', 'folder models may be registered from (repeatable; defaults to ./models and the known stores)'))
    .addOption(sizeOption('--body-limit <bytes>', 'largest request body', { example: '1MiB' }).default(1024 * 1024))
    .addOption(countOption('--rate-limit <n>', 'requests per minute per API key (0: no limit)', { example: '600' }).default(600))
    .addOption(parsedOption('--keep-alive <duration>', 'how long a model stays loaded after use when a request names none (5m, 1h, -1)', keepAliveOption))
    .option('--allow-open', 'listen on a non-loopback address without API keys (anyone reaching it is an admin)')
    .option('--no-discovery', 'do not scan the model roots (periodic scans follow model_discovery.json)')
    .option('--no-runtime', 'do not run models (registry and discovery only)')
    .addOption(countOption('--max-queue <n>', 'requests that may wait per model before 503 QUEUE_FULL', { min: 1, example: '64' }))
    .addOption(countOption('--max-loaded <n>', 'most models loaded at once', { min: 1, example: '4' }))
    .addOption(sizeOption('--memory-budget <bytes>', 'memory all loaded models may take together', { example: '16GB' }))
    .option('--url <url>', 'the URL other hosts reach this server at, listed in the cluster (default: the listen address)')
    .addOption(parsedOption('--heartbeat <duration>', 'how often this server renews its entry in a shared (postgres) registry; gone after three missed', heartbeatOption).default(5_000, '5s'));
  serve.action(async () => {
    const o = serve.optsWithGlobals();
    // Settings first: a server never starts half-configured. Its flags are settings given on the command line.
    const settings = await settingsOf(o, {
      maxQueue: { flag: '--max-queue', value: o.maxQueue },
      'sharing.maxSharedModels': { flag: '--max-loaded', value: o.maxLoaded },
      memoryBudget: { flag: '--memory-budget', value: o.memoryBudget },
    });
    if (!LOOPBACK.has(o.host) && !o.allowOpen && !authRequested(o)) {
      throw new ModelManagerError('INVALID_ARGUMENT', `refusing to serve ${o.host} without API keys: use --auth (see \`mm serve keys add\`) or --allow-open`);
    }
    const registry = await openRegistry(o);
    // A postgres registry may hold the keys, so they are read once it is open.
    const auth = await loadAuth(o, registry).catch(async (error: unknown) => {
      await registry.close();
      throw error;
    });
    const keepAlive = o.keepAlive;
    const discovery = o.discovery ? await Discovery.create({ registry, roots: o.modelRoot }) : undefined;
    // One list of roots: where discovery scans is where clients may register paths and the runtime looks up names.
    const modelRoots = o.modelRoot ?? discovery?.roots() ?? defaultModelRoots();
    const runtime = o.runtime
      ? await ModelManager.create({ registry, modelRoots, defaultKeepAlive: keepAlive, settings })
      : undefined;
    const app = await createServer({
      registry,
      discovery,
      runtime,
      auth,
      modelRoots,
      bodyLimit: o.bodyLimit,
      rateLimit: o.rateLimit > 0 ? { max: o.rateLimit } : false,
      keepAliveDefault: keepAlive,
      logger: { level: o.json ? 'warn' : 'info', stream: process.stderr },
    });
    let membership: ClusterMembership | undefined;
    const stop = async () => {
      discovery?.stop();
      await membership?.leave();
      await app.close();
      await discovery?.close();
      await runtime?.shutdown();
      await registry.close();
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    const address = await app.listen({ port: o.port, host: o.host });
    const cluster = registry.store.cluster;
    if (cluster) {
      membership = await ClusterMembership.join({
        cluster, hostId: config().hostId, url: advertisedUrl(o, address), heartbeatMs: o.heartbeat,
        describe: () => describeHost(runtime), ...(runtime ? { loaded: () => loadedModels(runtime) } : {}),
        onError: (error) => process.stderr.write(`mm serve: cluster: ${error instanceof Error ? error.message : String(error)}; retrying with the next heartbeat\n`),
      });
    }
    discovery?.start();
    if (o.json) printJson({ url: address, auth: auth !== undefined, docs: `${address}/docs`, ...(membership ? { hostId: config().hostId } : {}) });
    else process.stderr.write(`Model Manager at ${address}  (web UI: ${address}/  API docs: ${address}/docs${auth ? '  API keys required' : ''})\n`);
  });
  registerKeyCommands(serve.command('keys').description('API keys of the servers, kept hashed in the postgres registry, else in $MM_API_KEYS_FILE or MM_HOME/api-keys.json'));
}
