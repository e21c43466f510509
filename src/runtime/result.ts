/**
 * The Result shape every runtime entry point returns instead of throwing (seed 003):
 * callers branch on `success` and read a stable `error.code`.
 */
import { ModelManagerError, toModelManagerError, type ErrorCode } from '../errors.js';

export interface ResultError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
  /**
   * What the error wraps (a backend's own error, say), for the caller's logs. Not enumerable, as
   * an Error's `cause` is not: JSON (an HTTP body, `--json`) and object spreads leave it out.
   */
  readonly cause?: unknown;
}

export type Result<T> = { success: true; data: T } | { success: false; error: ResultError };

export function ok<T>(data: T): Result<T> {
  return { success: true, data };
}

/** A failed Result from anything thrown, keeping its `cause`; errors that are not ModelManagerErrors become `fallback`. */
export function fail<T = never>(error: unknown, fallback: ErrorCode = 'TASK_FAILED'): Result<T> {
  const err = toModelManagerError(error, fallback);
  const failure: ResultError = err.toJSON();
  if (err.cause !== undefined) Object.defineProperty(failure, 'cause', { value: err.cause, enumerable: false });
  return { success: false, error: failure };
}

/** The error a failed Result stands for, to throw: code, message, details and cause as the Result has them. */
export function resultError({ code, message, details, cause }: ResultError): ModelManagerError {
  return new ModelManagerError(code, message, { details, ...(cause === undefined ? {} : { cause }) });
}
