/**
 * Where `mm serve` and `mm serve keys` keep API keys, and the `keys add|list|remove` commands.
 *
 * A keys file named with --keys-file or MM_API_KEYS_FILE is used whatever the store. Otherwise a
 * postgres registry keeps the keys in its database, shared by every server on it (a key added or
 * revoked on one host counts on all of them at once), and the other stores in MM_HOME/api-keys.json.
 */
import { existsSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { config, storeKindOf } from '../../config.js';
import { ModelManagerError } from '../../errors.js';
import type { Registry } from '../../registry/index.js';
import { ApiKeys, ROLES, addApiKey, createApiKey, defaultKeysFile, readKeysFile, removeApiKeys, type ApiKeyStore } from '../../server/index.js';
import { openRegistry } from '../context.js';
import { choiceOption, countOption, listOption } from '../options.js';
import { printJson, printTable } from '../output.js';
import type { GlobalOptions } from '../program.js';

interface KeysOptions {
  keysFile?: string;
  store?: GlobalOptions['store'];
  db?: string;
}

/** True when the keys are the registry's (postgres, and no keys file named). */
function keysInRegistry(o: KeysOptions): boolean {
  return o.keysFile === undefined && !process.env.MM_API_KEYS_FILE && storeKindOf(o.store, o.db, config().store) === 'postgres';
}

function keyStoreOf(registry: Registry): ApiKeyStore {
  const store = registry.store.apiKeys;
  if (!store) throw new ModelManagerError('INVALID_CONFIG', `the ${registry.store.kind} registry keeps no API keys; name a keys file with --keys-file`);
  return store;
}

/** True when `mm serve` was asked to require keys (--auth, --keys-file, or MM_API_KEYS_FILE set). */
export function authRequested(o: KeysOptions & { auth?: true }): boolean {
  return Boolean(o.auth || o.keysFile || process.env.MM_API_KEYS_FILE);
}

/**
 * The keys a server requires: those of the registry it serves (postgres), followed as each host
 * changes them, or of a keys file, followed as it changes; none when it runs open.
 * @throws INVALID_CONFIG when auth is asked for and there is no key yet, FILE_NOT_FOUND for a missing keys file
 */
export async function loadAuth(o: KeysOptions & { auth?: true }, registry: Registry): Promise<ApiKeys | undefined> {
  if (!authRequested(o)) return undefined;
  const onError = (error: unknown) => process.stderr.write(`mm serve: ${error instanceof Error ? error.message : String(error)}; the keys loaded before stay in use\n`);
  if (keysInRegistry(o)) {
    const store = keyStoreOf(registry);
    const keys = await ApiKeys.follow(store, { onError });
    if (keys.size > 0) return keys;
    keys.close();
    const file = defaultKeysFile();
    const unread = existsSync(file) ? ` (${file} is not read for a postgres registry: name it with --keys-file to use it)` : '';
    throw new ModelManagerError('INVALID_CONFIG', `the registry ${store.location} holds no API keys${unread}; add one with \`mm serve keys add <user> --role admin\``);
  }
  const file = o.keysFile ?? defaultKeysFile();
  const keys = await ApiKeys.watch(file, { onError });
  if (keys.size === 0) {
    keys.close();
    throw new ModelManagerError('INVALID_CONFIG', `the API keys file ${file} holds no keys; add one with \`mm serve keys add <user> --role admin\``);
  }
  return keys;
}

/** The keys of a postgres registry, or a keys file; `where` names them in messages. */
type KeyPlace = { store: ApiKeyStore; file?: undefined; where: string } | { store?: undefined; file: string; where: string };

/** Runs `work` on the keys of the registry or of the keys file, as `o` names them. */
async function withKeys<T>(o: KeysOptions, work: (keys: KeyPlace) => Promise<T>): Promise<T> {
  if (!keysInRegistry(o)) {
    const file = o.keysFile ?? defaultKeysFile();
    return work({ file, where: file });
  }
  await using registry = await openRegistry(o);
  const store = keyStoreOf(registry);
  return work({ store, where: `the registry ${store.location}` });
}

const KEYS_FILE_HELP = 'keys file [MM_API_KEYS_FILE]; for a postgres registry the keys are in its database unless a file is named';

/** `mm serve keys add|list|remove`; `keys` sees the program's global options. */
export function registerKeyCommands<G extends GlobalOptions>(keys: Command<[], Record<never, never>, G>): void {
  const add = keys
    .command('add <user>')
    .description('mint a key for a user; it is printed once and only its hash is kept')
    .addOption(choiceOption('--role <role>', `one of ${ROLES.join(', ')}`, ROLES).default('reader'))
    .addOption(listOption('--group <group>', 'group the user belongs to, for restricted models (repeatable)'))
    .addOption(countOption('--rate-limit <n>', 'requests per minute for this key', { example: '60' }))
    .option('--keys-file <path>', KEYS_FILE_HELP);
  add.action(async (user) => {
    const o = add.optsWithGlobals();
    // `serve`'s --rate-limit has a default (and commander hands `--rate-limit` to it wherever it is
    // written): only a limit the user typed is the key's, or the key would never follow the server's.
    const rateLimit = add.getOptionValueSourceWithGlobals('rateLimit') === 'cli' ? o.rateLimit : undefined;
    const options = { user, role: o.role, groups: o.group ?? [], rateLimitPerMinute: rateLimit };
    const { key, record, where, place } = await withKeys(o, async (p) => {
      if (p.store === undefined) return { ...(await addApiKey(p.file, options)), where: p.where, place: { file: p.file } };
      const minted = createApiKey(options);
      await p.store.add(minted.record);
      return { ...minted, where: p.where, place: { db: p.store.location } };
    });
    if (o.json) return printJson({ key, id: record.id, user, role: record.role, groups: record.groups, rateLimitPerMinute: record.rateLimitPerMinute, ...place });
    process.stdout.write(`${key}\n`);
    process.stderr.write(`key ${record.id} for ${user} (${record.role}) saved hashed in ${where}; copy it now, it is not shown again\n`);
  });
  const list = keys
    .command('list')
    .description('list keys (ids, users, roles; never the keys)')
    .option('--keys-file <path>', KEYS_FILE_HELP);
  list.action(async () => {
    const o = list.optsWithGlobals();
    const stored = await withKeys(o, (p) => (p.store === undefined ? readKeysFile(p.file) : p.store.list()));
    const records = stored.map(({ hash: _hash, ...r }) => r);
    if (o.json) return printJson({ keys: records });
    printTable(['ID', 'USER', 'ROLE', 'GROUPS', 'CREATED'], records.map((r) => [r.id, r.user, r.role, r.groups.join(','), r.createdAt]));
  });
  const remove = keys
    .command('remove <idOrUser>')
    .description('revoke a key by id, or every key of a user')
    .option('--keys-file <path>', KEYS_FILE_HELP);
  remove.action(async (idOrUser) => {
    const o = remove.optsWithGlobals();
    const removed = await withKeys(o, (p) => (p.store === undefined ? removeApiKeys(p.file, idOrUser) : p.store.remove(idOrUser)));
    if (removed === 0) throw new ModelManagerError('NOT_FOUND', `no key with id or user "${idOrUser}"; see \`mm serve keys list\``);
    if (o.json) return printJson({ removed });
    process.stderr.write(`removed ${removed} key(s); running servers refuse them within a second\n`);
  });
}
