/**
 * The Result shape every runtime entry point returns instead of throwing (seed 003):
 * callers branch on `success` and read a stable `error.code`.
 */
import { toModelManagerError, type ErrorCode } from '../errors.js';

export interface ResultError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export type Result<T> = { success: true; data: T } | { success: false; error: ResultError };

export function ok<T>(data: T): Result<T> {
  return { success: true, data };
}

/** A failed Result from anything thrown; errors that are not ModelManagerErrors become `fallback`. */
export function fail<T = never>(error: unknown, fallback: ErrorCode = 'TASK_FAILED'): Result<T> {
  const err = toModelManagerError(error, fallback);
  return { success: false, error: err.toJSON() };
}
