/**
 * Keep-alive values as users write them: minutes (number), a duration ("30s", "5m", "1h"),
 * 0 = free right after the task, -1 (any negative) = keep until released.
 */
import { ModelManagerError } from '../errors.js';

/** Minutes as a number, or a duration string such as "30s", "5m", "1h". */
export type KeepAlive = number | string;

/** Milliseconds to keep an idle model loaded; `Infinity` means keep until released. */
export function parseKeepAlive(value: KeepAlive): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(value);
    return value < 0 ? Infinity : value * 60_000;
  }
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!match) throw invalid(value);
  const amount = Number(match[1]);
  if (amount < 0) return Infinity;
  const unit = (match[2] ?? 'm').toLowerCase();
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit] ?? 60_000;
  return amount * factor;
}

/** Milliseconds back to the minutes the preload result reports (-1 for "keep"). */
export function keepAliveMinutes(ms: number): number {
  return ms === Infinity ? -1 : ms / 60_000;
}

function invalid(value: unknown): ModelManagerError {
  return new ModelManagerError('INVALID_ARGUMENT', `keepAlive "${String(value)}" is not valid: use minutes (5), a duration ("30s", "5m", "1h"), 0 or -1`, {
    details: { keepAlive: value },
  });
}
