/**
 * An API key as it is kept: its SHA-256, never the key, with who holds it and what they may do.
 * The record of a keys file and of a shared registry's `api_keys` table alike; what a key means to
 * a request (minting, checking, roles on routes) is the server's (server/auth/api-keys.ts).
 */
import { z } from 'zod';

export const ROLES = ['reader', 'writer', 'admin'] as const;
/** reader: list and run what it may see; writer: also change the registry and run scans; admin: sees everything, sets access. */
export type Role = (typeof ROLES)[number];

export const apiKeyRecordSchema = z.strictObject({
  id: z.string().regex(/^[a-f0-9]{8,32}$/),
  user: z.string().min(1),
  role: z.enum(ROLES),
  groups: z.array(z.string().min(1)).default([]),
  /** `sha256:<hex>` of the whole key. */
  hash: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  createdAt: z.string(),
  /** Requests per minute for this key; the server default when absent. */
  rateLimitPerMinute: z.number().int('must be a whole number').positive('must be at least 1').optional(),
});
export type ApiKeyRecord = z.output<typeof apiKeyRecordSchema>;

/**
 * Keys kept in a shared database instead of a file (the postgres registry's `api_keys` table), so
 * every server of a team accepts the same keys, and a revoked key stops working on all of them.
 */
export interface ApiKeyStore {
  /** Where the keys are, for messages (a URL without its password). */
  readonly location: string;
  /** Every record, hash included; the key itself is never stored. */
  list(): Promise<ApiKeyRecord[]>;
  /** Stores a record minted by createApiKey, and tells every following server. */
  add(record: ApiKeyRecord): Promise<void>;
  /** Removes the keys with this id, or every key of this user, telling every following server; returns how many went. */
  remove(idOrUser: string): Promise<number>;
  /** Calls `onChange` when the keys may have changed: a write of any host, or a reconnection that may have missed one. @returns what stops it */
  watch(onChange: () => void): () => void;
}

