/**
 * API keys: minted once, shown once, stored only as a hash in a small JSON file.
 *
 * A key reads `mm_<id>_<secret>`: the id finds the record without scanning, the secret is 32
 * random bytes. Because keys are random (not passwords people chose), one SHA-256 is enough to
 * make a stolen keys file useless, and it keeps the per-request check in microseconds where
 * scrypt would cost tens of milliseconds on every call. Hashes are compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { config } from '../../config.js';
import { writeFileAtomically } from '../../atomic-file.js';
import { ModelManagerError } from '../../errors.js';
import { apiKeyRecordSchema, type ApiKeyRecord, type ApiKeyStore, type Role } from '../../registry/api-key-records.js';

export { ROLES, type ApiKeyRecord, type ApiKeyStore, type Role } from '../../registry/api-key-records.js';

const keysFileSchema = z.strictObject({ keys: z.array(apiKeyRecordSchema) });

/** Who is calling, as the routes see it. */
export interface Caller {
  user: string;
  role: Role;
  groups: readonly string[];
  /** The key's id; undefined when the server runs without auth. */
  keyId?: string;
  rateLimitPerMinute?: number;
}

/** The caller of a server started without keys: it is run only on 127.0.0.1 unless told otherwise. */
export const OPEN_CALLER: Caller = Object.freeze({ user: 'local', role: 'admin', groups: Object.freeze([]) });

const KEY_PATTERN = /^mm_([a-f0-9]{8,32})_([A-Za-z0-9_-]{20,})$/;

function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** The keys file used when none is named: `MM_API_KEYS_FILE`, else `api-keys.json` in MM_HOME. */
export function defaultKeysFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.MM_API_KEYS_FILE || join(config().home, 'api-keys.json');
}

export interface WatchKeysOptions {
  /** How often the file's size and mtime are checked, in ms. Defaults to 1000. */
  intervalMs?: number;
  /** Told when a changed file could not be read; the keys in use stay as they were. Defaults to nothing. */
  onError?: (error: unknown) => void;
}

export interface FollowKeysOptions {
  /** Told when the keys could not be read again, or of a stored record that is malformed (it is refused). Defaults to nothing. */
  onError?: (error: unknown) => void;
}

/** The records that pass the schema; each one that does not is reported and left out, so it authenticates nobody. */
function validRecords(records: readonly unknown[], where: string, onError: (error: unknown) => void): ApiKeyRecord[] {
  const valid: ApiKeyRecord[] = [];
  for (const record of records) {
    const parsed = apiKeyRecordSchema.safeParse(record);
    if (parsed.success) valid.push(parsed.data);
    else {
      const id = String((record as { id?: unknown }).id);
      onError(new ModelManagerError('INVALID_CONFIG', `API key ${id} in ${where} is malformed and is refused; remove it and add the user's key again`, {
        cause: parsed.error, details: { id },
      }));
    }
  }
  return valid;
}

/** The set of keys a server accepts. */
export class ApiKeys {
  #byId: ReadonlyMap<string, ApiKeyRecord>;
  #unwatch: (() => void) | undefined;

  private constructor(records: readonly ApiKeyRecord[]) {
    this.#byId = new Map(records.map((r) => [r.id, r]));
  }

  /** Keys from records already in memory (tests, embedders). */
  static fromRecords(records: readonly ApiKeyRecord[]): ApiKeys {
    return new ApiKeys(records.map((r) => apiKeyRecordSchema.parse(r)));
  }

  /** Reads a keys file. @throws FILE_NOT_FOUND when absent, INVALID_CONFIG when malformed. */
  static async load(path: string): Promise<ApiKeys> {
    return new ApiKeys(await readKeysFile(path, { mustExist: true }));
  }

  /**
   * Reads a keys file and follows it: keys added or removed with `mm serve keys` take effect
   * without a restart. A file that turns unreadable or malformed keeps the keys in use (and
   * calls `onError`), so a half-edited file never locks everyone out or lets anyone in.
   */
  static async watch(path: string, { intervalMs = 1000, onError = () => {} }: WatchKeysOptions = {}): Promise<ApiKeys> {
    const keys = await ApiKeys.load(path);
    let reading = Promise.resolve();
    const reload = (now: Stats, before: Stats) => {
      if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
      reading = reading.then(async () => {
        try {
          keys.#byId = new Map((await readKeysFile(path, { mustExist: true })).map((r) => [r.id, r]));
        } catch (error) {
          onError(error);
        }
      });
    };
    watchFile(path, { interval: intervalMs, persistent: false }, reload);
    keys.#unwatch = () => unwatchFile(path, reload);
    return keys;
  }

  /**
   * Reads the keys of a shared store and follows it: a key added or removed on any host is
   * accepted or refused here as soon as the store tells of it (and after a reconnection, when a
   * change may have been missed). Keys that cannot be read again stay as they were (`onError`).
   */
  static async follow(store: ApiKeyStore, { onError = () => {} }: FollowKeysOptions = {}): Promise<ApiKeys> {
    const keys = new ApiKeys(validRecords(await store.list(), store.location, onError));
    // One read at a time; a change told during a read is read once more after it, never lost or queued up.
    let reading = false;
    let again = false;
    const reload = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      do {
        again = false;
        try {
          keys.#byId = new Map(validRecords(await store.list(), store.location, onError).map((r) => [r.id, r]));
        } catch (error) {
          onError(error);
        }
      } while (again);
      reading = false;
    };
    keys.#unwatch = store.watch(() => void reload());
    return keys;
  }

  /** Stops following the file or store (a no-op for keys that follow neither). */
  close(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** The caller a presented key stands for, or undefined when the key is unknown. */
  authenticate(key: string): Caller | undefined {
    const match = KEY_PATTERN.exec(key.trim());
    const record = match ? this.#byId.get(match[1]!) : undefined;
    if (!record) return undefined;
    const expected = Buffer.from(record.hash);
    const actual = Buffer.from(hashKey(key.trim()));
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    const caller: Caller = { user: record.user, role: record.role, groups: record.groups, keyId: record.id };
    if (record.rateLimitPerMinute !== undefined) caller.rateLimitPerMinute = record.rateLimitPerMinute;
    return caller;
  }
}

export interface NewApiKeyOptions {
  user: string;
  /** Defaults to `reader`. */
  role?: Role;
  /** Defaults to none. */
  groups?: readonly string[];
  rateLimitPerMinute?: number;
}

/** Mints a key and its record; the key itself is returned only here. */
export function createApiKey({ user, role = 'reader', groups = [], rateLimitPerMinute }: NewApiKeyOptions): { key: string; record: ApiKeyRecord } {
  const id = randomBytes(6).toString('hex');
  const key = `mm_${id}_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = { id, user, role, groups: [...groups], hash: hashKey(key), createdAt: new Date().toISOString() };
  if (rateLimitPerMinute !== undefined) record.rateLimitPerMinute = rateLimitPerMinute;
  const parsed = apiKeyRecordSchema.safeParse(record);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), reason: i.message }));
    throw new ModelManagerError('INVALID_ARGUMENT', `cannot make this key: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`, {
      cause: parsed.error,
      details: { issues },
    });
  }
  return { key, record: parsed.data };
}

/** The records of a keys file (none when the file is absent and `mustExist` is false). */
export async function readKeysFile(path: string, { mustExist = false }: { mustExist?: boolean } = {}): Promise<ApiKeyRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !mustExist) return [];
    throw new ModelManagerError('FILE_NOT_FOUND', `cannot read the API keys file ${path}; create a key with \`mm serve keys add <user>\``, {
      cause: error,
      details: { path },
    });
  }
  try {
    return keysFileSchema.parse(JSON.parse(text)).keys;
  } catch (error) {
    throw new ModelManagerError('INVALID_CONFIG', `the API keys file ${path} is malformed; fix it or move it away and add keys again`, {
      cause: error,
      details: { path },
    });
  }
}

/** Writes the records atomically, mode 0600 from the first byte: the hashes are nobody else's business. */
export async function writeKeysFile(path: string, records: readonly ApiKeyRecord[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomically(path, `${JSON.stringify({ keys: records }, null, 2)}\n`, { mode: 0o600 });
}

/** Mints a key and appends it to the file; returns the key (shown once) and its record. */
export async function addApiKey(path: string, options: NewApiKeyOptions): Promise<{ key: string; record: ApiKeyRecord }> {
  const records = await readKeysFile(path);
  const minted = createApiKey(options);
  await writeKeysFile(path, [...records, minted.record]);
  return minted;
}

/** Removes the keys with this id, or every key of this user; returns how many went. */
export async function removeApiKeys(path: string, idOrUser: string): Promise<number> {
  const records = await readKeysFile(path);
  const kept = records.filter((r) => r.id !== idOrUser && r.user !== idOrUser);
  if (kept.length !== records.length) await writeKeysFile(path, kept);
  return records.length - kept.length;
}
