/**
 * Numbers with suffixes, as people write them: 7B parameters, 500M, 16GB, 512MiB, 8K context.
 */
import { ModelManagerError } from './errors.js';

const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12, p: 1e15 };
const BINARY: Record<string, number> = { ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40, pi: 2 ** 50 };
const NUMBER_WITH_SUFFIX = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([a-z]*)\s*$/i;

/**
 * The value of `text` with its suffix applied, or undefined when it is not such a number.
 * `bytes`: a trailing `B` means bytes (`16GB`, `512B`); otherwise a lone `B` means billions (`7B`).
 * `binaryK`: `K` means 1024 (context lengths, as model cards count them: 8K = 8192).
 */
function scaled(text: string, { bytes = false, binaryK = false }: { bytes?: boolean; binaryK?: boolean } = {}): number | undefined {
  const match = NUMBER_WITH_SUFFIX.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  let suffix = match[2]!.toLowerCase();
  if (suffix.endsWith('b') && (bytes || suffix.length > 1)) suffix = suffix.slice(0, -1);
  const scale = binaryK && suffix === 'k' ? 1024 : (BINARY[suffix] ?? DECIMAL[suffix]);
  const result = scale === undefined ? undefined : value * scale;
  return result !== undefined && Number.isFinite(result) ? result : undefined;
}

/**
 * Parses `7B`, `1.5k`, `500M`, `16GB`, `512MiB`, `1e9` into a whole number.
 * Decimal suffixes (k, M, B/G, T) are powers of 1000, `Ki/Mi/Gi/Ti` powers of 1024; a trailing `B` (bytes) is ignored.
 * @throws ModelManagerError INVALID_ARGUMENT
 */
export function parseQuantity(text: string | number, what = 'number'): number {
  if (typeof text === 'number') return text;
  const value = scaled(text);
  if (value !== undefined) return Math.round(value);
  throw new ModelManagerError('INVALID_ARGUMENT', `"${text}" is not a valid ${what}: write e.g. 7B, 500M, 16GB, 512MiB or 8192`, {
    details: { value: text },
  });
}

/** A count such as `7B` (parameters), `500M`, `20` or `1.5e9`; undefined when `text` is none. Not rounded. */
export function parseCount(text: string): number | undefined {
  return scaled(text);
}

/** Bytes from `16GB`, `8GiB`, `512MiB`, `512B` or `8e9`; undefined when `text` is no size. Not rounded. */
export function parseSize(text: string): number | undefined {
  return scaled(text, { bytes: true });
}

/** Tokens from `8K` (8192: context lengths count in binary thousands), `4096` or `128k`; undefined when `text` is none. */
export function parseTokenCount(text: string): number | undefined {
  return scaled(text, { binaryK: true });
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
