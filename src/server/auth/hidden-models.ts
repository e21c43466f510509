/**
 * The models one caller may not see, by id and by where their files are, so that answers which
 * are not about one model (scan logs and reports, paths a client names) can leave them out.
 */
import { realpath } from 'node:fs/promises';
import type { Registry } from '../../registry/registry.js';
import { isInside } from '../model-roots.js';
import type { Caller } from './api-keys.js';

/** Characters a model id may hold; an id is named in a text when no such character touches it. */
const ID_CHAR = '[A-Za-z0-9_.:+/-]';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class HiddenModels {
  readonly #ids: ReadonlySet<string>;
  /** Each hidden model's localPath, and its real path where that differs. */
  readonly #paths: readonly string[];
  readonly #namesAnId: RegExp | undefined;

  private constructor(ids: readonly string[], paths: readonly string[]) {
    this.#ids = new Set(ids);
    this.#paths = paths;
    // A trailing `.` or `:` is punctuation in a log line ("marked missing org/x: ..."), so it does not shield an id.
    this.#namesAnId = ids.length === 0 ? undefined : new RegExp(`(?<!${ID_CHAR})(?:${ids.map(escapeRegExp).join('|')})(?![A-Za-z0-9_+/-])`);
  }

  /** The models hidden from `caller` (none for an admin). */
  static async of(registry: Registry, caller: Caller): Promise<HiddenModels> {
    if (caller.role === 'admin') return new HiddenModels([], []);
    // From the store's access columns: a caller's hidden models, not the whole registry.
    const hidden = await registry.listModels({ hiddenFromGroups: caller.groups });
    const stored = hidden.flatMap((m) => (m.localPath ? [m.localPath] : []));
    // Paths a client names are judged by their real path, so each hidden model's is compared too.
    const real = await Promise.all(stored.map((p) => realpath(p).catch(() => p)));
    return new HiddenModels(hidden.map((m) => m.modelId), [...new Set([...stored, ...real])]);
  }

  get size(): number {
    return this.#ids.size;
  }

  /** True when `modelId` is a hidden model. */
  hasId(modelId: string): boolean {
    return this.#ids.has(modelId);
  }

  /** True when `path` is a hidden model's file or folder, or lies inside one. */
  owns(path: string): boolean {
    return this.#paths.some((p) => isInside(p, path));
  }

  /** True when `path` is, holds or lies inside a hidden model's files: registering it would reach them. */
  overlaps(path: string): boolean {
    return this.#paths.some((p) => isInside(p, path) || isInside(path, p));
  }

  /** True when `text` names a hidden model's id or path. */
  mentions(text: string): boolean {
    return (this.#namesAnId?.test(text) ?? false) || this.#paths.some((p) => text.includes(p));
  }
}
