/**
 * Numbers with suffixes, as people write them: 7B parameters, 500M, 16GB, 512MiB, 8K context.
 */
import { ModelManagerError } from './errors.js';

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12, p: 1e15 };
const BINARY: Record<string, number> = { ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40, pi: 2 ** 50 };

/**
 * Parses `7B`, `1.5k`, `500M`, `16GB`, `512MiB`, `1e9` into a number.
 * Decimal suffixes (k, M, B/G, T) are powers of 1000, `Ki/Mi/Gi/Ti` powers of 1024; a trailing `B` (bytes) is ignored.
 * @throws ModelManagerError INVALID_ARGUMENT
 */
export function parseQuantity(text: string | number, what = 'number'): number {
  if (typeof text === 'number') return text;
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (match) {
    const value = Number(match[1]);
    let suffix = match[2]!.toLowerCase();
    if (suffix.length > 1 && suffix.endsWith('b')) suffix = suffix.slice(0, -1);
    const scale = BINARY[suffix] ?? DECIMAL[suffix];
    if (scale !== undefined && Number.isFinite(value)) return Math.round(value * scale);
  }
  throw new ModelManagerError('INVALID_ARGUMENT', `"${text}" is not a valid ${what}: write e.g. 7B, 500M, 16GB, 512MiB or 8192`, {
    details: { value: text },
  });
}

/** 1536 -> "1.5 KiB"; bytes in binary units. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${bytes < 0 ? '-' : ''}${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** 7_241_732_096 -> "7.24B"; counts in decimal units. */
export function formatCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, suffix] of units) if (Math.abs(n) >= scale) return `${(n / scale).toFixed(n / scale < 10 ? 2 : 1)}${suffix}`;
  return String(n);
}
