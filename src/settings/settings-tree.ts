/**
 * Settings as they are gathered, before they are checked: one nested object that the file, then
 * the environment, then flags write into, and where each value came from, so a refused value
 * can be traced to its line or variable and `mm config show` can tell its source.
 */
import { ModelManagerError } from '../errors.js';

/** Where a setting's value came from. */
export type SettingOrigin =
  | { source: 'default' }
  | { source: 'file'; file: string; line: number }
  | { source: 'env'; name: string }
  | { source: 'flag'; name: string };

/** The origin in words, as error messages and `mm config show` print it. */
export function describeOrigin(origin: SettingOrigin): string {
  switch (origin.source) {
    case 'default':
      return 'default';
    case 'file':
      return `${origin.file}:${origin.line}`;
    default:
      return origin.name;
  }
}

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The canonical spelling of one key of a setting's path: camelCase (the seed's snake_case is
 * accepted), except the names under `models`, which are the user's own and kept as written.
 */
export function settingKey(key: string, parent: readonly string[]): string {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
    throw new ModelManagerError('INVALID_CONFIG', `"${key}" is not a setting`, { details: { key } });
  }
  return parent.length === 1 && parent[0] === 'models' ? key : camel(key);
}

/** A dotted key as written (`models.embedding.local_path`) as its canonical path. */
export function settingPath(dotted: string): string[] {
  const path: string[] = [];
  for (const part of dotted.split('.')) {
    if (part === '') throw new ModelManagerError('INVALID_CONFIG', `"${dotted}" is not a setting name: write keys separated by single dots`, { details: { key: dotted } });
    path.push(settingKey(part, path));
  }
  return path;
}

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export class SettingsTree {
  /** The settings gathered so far, nested as the schema wants them. */
  readonly values: Tree = {};
  readonly #origins = new Map<string, SettingOrigin>();

  /** Where the value at `path` (or the nearest object holding it) came from; the default when nothing set it. */
  originOf(path: readonly PropertyKey[]): SettingOrigin {
    for (let n = path.length; n >= 0; n--) {
      const origin = this.#origins.get(JSON.stringify(path.slice(0, n).map(String)));
      if (origin) return origin;
    }
    return { source: 'default' };
  }

  /** True when something (not a default) set the value at `path`. */
  isSet(path: readonly string[]): boolean {
    return this.#origins.has(JSON.stringify(path));
  }

  /**
   * Sets the value at `path`. Within one file a path may be set once (nested and dotted keys can
   * name the same setting twice); a later layer (environment, flags) overrides what is there.
   */
  set(path: readonly string[], value: unknown, origin: SettingOrigin, { once = false } = {}): void {
    let node = this.values;
    for (let i = 0; i < path.length; i++) {
      const key = path[i]!;
      const here = JSON.stringify(path.slice(0, i + 1));
      if (i === path.length - 1) {
        const before = this.#origins.get(here);
        if (once && before && Object.hasOwn(node, key)) throw setTwice(path, before, origin);
        node[key] = value;
        this.#origins.set(here, origin);
        return;
      }
      const next = node[key];
      if (next === undefined) {
        node[key] = {};
        if (!this.#origins.has(here)) this.#origins.set(here, origin);
      } else if (!isTree(next)) {
        if (once) throw setTwice(path.slice(0, i + 1), this.#origins.get(here) ?? origin, origin);
        node[key] = {};
      }
      node = node[key] as Tree;
    }
  }

  /** Marks where the object at `path` is written, for errors about what it lacks. */
  markObject(path: readonly string[], origin: SettingOrigin): void {
    const here = JSON.stringify(path);
    if (!this.#origins.has(here)) this.#origins.set(here, origin);
  }
}

function setTwice(path: readonly string[], first: SettingOrigin, second: SettingOrigin): ModelManagerError {
  const key = path.join('.');
  return new ModelManagerError('INVALID_CONFIG', `${describeOrigin(second)}: ${key} is set twice (also at ${describeOrigin(first)}): keep one`, {
    details: { key, origins: [first, second] },
  });
}
