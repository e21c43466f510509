import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { config } from '../../config.js';
import { Discovery } from '../../discovery/index.js';
import { ModelManagerError } from '../../errors.js';
import { ModelManager } from '../../runtime/index.js';
import { ApiKeys, ROLES, addApiKey, createServer, defaultKeysFile, readKeysFile, removeApiKeys, type Role } from '../../server/index.js';
import { action, collect, openRegistry, optionsOf, quantity, settingsOf, withSettingsOptions, type SettingsOptions } from '../context.js';
import { printJson, printTable } from '../output.js';

interface ServeOptions {
  port: number;
  host: string;
  auth?: boolean;
  keysFile?: string;
  modelRoot?: string[];
  bodyLimit: number;
  rateLimit: number;
  keepAlive?: string;
  allowOpen?: boolean;
  /** false with --no-discovery. */
  discovery: boolean;
  /** false with --no-runtime. */
  runtime: boolean;
  maxQueue?: number;
  memoryBudget?: number;
  maxLoaded?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Where models may be registered from when neither --model-root nor discovery names them: the known stores that exist. */
function defaultModelRoots(): string[] {
  const cfg = config();
  return [resolve('models'), cfg.hf.hubCache, cfg.ollamaModels, cfg.lmStudioModels].filter((p) => existsSync(p));
}

async function loadAuth(o: ServeOptions): Promise<ApiKeys | undefined> {
  const file = o.keysFile ?? (o.auth || process.env.MM_API_KEYS_FILE ? defaultKeysFile() : undefined);
  if (!file) return undefined;
  const keys = await ApiKeys.watch(file, { onError: (error) => process.stderr.write(`mm serve: ${error instanceof Error ? error.message : String(error)}; the keys loaded before stay in use\n`) });
  if (keys.size === 0) {
    keys.close();
    throw new ModelManagerError('INVALID_CONFIG', `the API keys file ${file} holds no keys; add one with \`mm serve keys add <user> --role admin\``);
  }
  return keys;
}

function registerKeyCommands(serve: Command): void {
  const keys = serve.command('keys').description(`API keys of the server, kept hashed in ${'$MM_API_KEYS_FILE'} or MM_HOME/api-keys.json`);
  keys
    .command('add <user>')
    .description('mint a key for a user; it is printed once and only its hash is kept')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'reader')
    .option('--group <group>', 'group the user belongs to, for restricted models (repeatable)', collect)
    .option('--rate-limit <n>', 'requests per minute for this key', quantity('rate limit'))
    .option('--keys-file <path>', 'keys file [MM_API_KEYS_FILE]')
    .action(
      action(async (command, user: string) => {
        const o = optionsOf<{ role: string; group?: string[]; rateLimit?: number; keysFile?: string }>(command);
        // `serve`'s --rate-limit has a default (and commander hands `--rate-limit` to it wherever it is
        // written): only a limit the user typed is the key's, or the key would never follow the server's.
        const rateLimit = command.getOptionValueSourceWithGlobals('rateLimit') === 'cli' ? o.rateLimit : undefined;
        if (!(ROLES as readonly string[]).includes(o.role)) {
          throw new ModelManagerError('INVALID_ARGUMENT', `unknown role "${o.role}": use one of ${ROLES.join(', ')}`);
        }
        const file = o.keysFile ?? defaultKeysFile();
        const { key, record } = await addApiKey(file, { user, role: o.role as Role, groups: o.group ?? [], rateLimitPerMinute: rateLimit });
        if (o.json) return printJson({ key, id: record.id, user, role: record.role, groups: record.groups, rateLimitPerMinute: record.rateLimitPerMinute, file });
        process.stdout.write(`${key}\n`);
        process.stderr.write(`key ${record.id} for ${user} (${record.role}) saved hashed in ${file}; copy it now, it is not shown again\n`);
      }),
    );
  keys
    .command('list')
    .description('list keys (ids, users, roles; never the keys)')
    .option('--keys-file <path>', 'keys file [MM_API_KEYS_FILE]')
    .action(
      action(async (command) => {
        const o = optionsOf<{ keysFile?: string }>(command);
        const records = (await readKeysFile(o.keysFile ?? defaultKeysFile())).map(({ hash: _hash, ...r }) => r);
        if (o.json) return printJson({ keys: records });
        printTable(['ID', 'USER', 'ROLE', 'GROUPS', 'CREATED'], records.map((r) => [r.id, r.user, r.role, r.groups.join(','), r.createdAt]));
      }),
    );
  keys
    .command('remove <idOrUser>')
    .description('revoke a key by id, or every key of a user')
    .option('--keys-file <path>', 'keys file [MM_API_KEYS_FILE]')
    .action(
      action(async (command, idOrUser: string) => {
        const o = optionsOf<{ keysFile?: string }>(command);
        const removed = await removeApiKeys(o.keysFile ?? defaultKeysFile(), idOrUser);
        if (removed === 0) throw new ModelManagerError('NOT_FOUND', `no key with id or user "${idOrUser}"; see \`mm serve keys list\``);
        if (o.json) return printJson({ removed });
        process.stderr.write(`removed ${removed} key(s); a running server picks this up when restarted\n`);
      }),
    );
}

export function register(program: Command): void {
  const serve = withSettingsOptions(program.command('serve'))
    .description('run the HTTP API (OpenAPI at /docs) and the web UI (/)')
    .option('--port <n>', 'port (0 picks a free one)', quantity('port'), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--auth', 'require API keys (from MM_API_KEYS_FILE or MM_HOME/api-keys.json)')
    .option('--keys-file <path>', 'require API keys from this file (implies --auth)')
    .option('--model-root <dir>', 'folder models may be registered from (repeatable; defaults to ./models and the known stores)', collect)
    .option('--body-limit <bytes>', 'largest request body', quantity('body limit'), 1024 * 1024)
    .option('--rate-limit <n>', 'requests per minute per API key (0: no limit)', quantity('rate limit'), 600)
    .option('--keep-alive <duration>', 'how long a model stays loaded after use when a request names none (5m, 1h, -1)')
    .option('--allow-open', 'listen on a non-loopback address without API keys (anyone reaching it is an admin)')
    .option('--no-discovery', 'do not scan the model roots (periodic scans follow model_discovery.json)')
    .option('--no-runtime', 'do not run models (registry and discovery only)')
    .option('--max-queue <n>', 'requests that may wait per model before 503 QUEUE_FULL', quantity('queue length'))
    .option('--max-loaded <n>', 'most models loaded at once', quantity('model count'))
    .option('--memory-budget <bytes>', 'memory all loaded models may take together (16GB)', quantity('memory budget'))
    .action(
      action(async (command) => {
        const o = optionsOf<ServeOptions & SettingsOptions>(command);
        // Settings first: a server never starts half-configured.
        const settings = await settingsOf(o, {
          maxQueue: { flag: '--max-queue', value: o.maxQueue },
          'sharing.maxSharedModels': { flag: '--max-loaded', value: o.maxLoaded },
          memoryBudget: { flag: '--memory-budget', value: o.memoryBudget },
        });
        const auth = await loadAuth(o);
        if (!auth && !LOOPBACK.has(o.host) && !o.allowOpen) {
          throw new ModelManagerError('INVALID_ARGUMENT', `refusing to serve ${o.host} without API keys: use --auth (see \`mm serve keys add\`) or --allow-open`);
        }
        const registry = await openRegistry(o);
        const keepAlive = o.keepAlive === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(o.keepAlive) ? Number(o.keepAlive) : o.keepAlive;
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
        const stop = async () => {
          discovery?.stop();
          await app.close();
          await discovery?.close();
          await runtime?.shutdown();
          await registry.close();
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
        const address = await app.listen({ port: o.port, host: o.host });
        discovery?.start();
        if (o.json) printJson({ url: address, auth: auth !== undefined, docs: `${address}/docs` });
        else process.stderr.write(`Model Manager at ${address}  (web UI: ${address}/  API docs: ${address}/docs${auth ? '  API keys required' : ''})\n`);
      }),
    );
  registerKeyCommands(serve);
}
