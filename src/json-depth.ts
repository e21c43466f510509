/**
 * How deeply a JSON value nests. Records and request bodies are bounded by it, because the code
 * that copies, merges and stores them recurses, and a 10,000-deep object would overflow its stack.
 */

/** The deepest nesting accepted in a model record or a request body: far beyond any real config. */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests objects or arrays more than `max` levels deep (`{}` is one level). Never recurses. */
export function jsonDepthExceeds(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
