/**
 * Model ids contain slashes (`org/name`), so `/api/models/org/name/versions` is rewritten to
 * `/api/models/org%2Fname/versions` before routing, and every route can declare a plain `:id`.
 *
 * The last segment decides: a known action word (or `versions/<n>`) is the action, the segments
 * before it are the id. A model whose own name ends in an action word (`org/metrics`) is reached
 * with its slash encoded (`org%2Fmetrics`), which is always unambiguous.
 */

/** Fixed paths under /api/models that are not model ids. */
const FIXED = new Set(['discovery/refresh', 'discovery/status', 'discovery/logs', 'discovered', 'register', 'metadata/bulk-update']);

/** Actions that follow a model id. */
export const MODEL_ACTIONS = new Set(['versions', 'rollback', 'metrics', 'metadata', 'category', 'test-load', 'validate', 'release']);

const PREFIX = '/api/models/';

/** The URL with the model id's slashes encoded; any other URL unchanged. */
export function canonicalModelUrl(url: string): string {
  if (!url.startsWith(PREFIX)) return url;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  const tail = path.slice(PREFIX.length).replace(/\/+$/, '');
  if (FIXED.has(tail) || !tail.includes('/')) return url;
  const segments = tail.split('/');
  let action: string[] = [];
  const last = segments[segments.length - 1]!;
  const beforeLast = segments[segments.length - 2];
  if (segments.length >= 3 && beforeLast === 'versions' && /^\d+$/.test(last)) action = segments.slice(-2);
  else if (segments.length >= 2 && MODEL_ACTIONS.has(last)) action = segments.slice(-1);
  const id = segments.slice(0, segments.length - action.length);
  if (id.length === 0 || id.some((s) => s === '')) return url;
  return `${PREFIX}${id.join('%2F')}${action.length ? `/${action.join('/')}` : ''}${query}`;
}
