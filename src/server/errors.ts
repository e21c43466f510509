/**
 * The one place where errors become HTTP responses.
 *
 * Everything thrown in a route, a hook or a plugin (fastify's own validation and body errors,
 * rate limiting, runtime `Result` failures) is first turned into a ModelManagerError; its code
 * gives the status (`ModelManagerError.status`) and the body is always `{error: {code, message, details}}`.
 */
import { ERROR_CODES, ModelManagerError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** Codes that mean "try again later": their responses carry Retry-After. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['QUEUE_FULL', 'RATE_LIMITED', 'STORE_LOCKED', 'SHUTTING_DOWN']);

/** fastify and plugin errors carry a status and an `FST_*` code; these are the ones a client caused. */
const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'INVALID_ARGUMENT',
  429: 'RATE_LIMITED',
};

interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: unknown;
  validationContext?: string;
}

function isKnownCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Converts anything thrown into a ModelManagerError, keeping the original as `cause`. */
export function asModelManagerError(error: unknown): ModelManagerError {
  if (error instanceof ModelManagerError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  if (e.validation !== undefined) {
    return new ModelManagerError('INVALID_ARGUMENT', `invalid request ${e.validationContext ?? ''}: ${e.message ?? ''}`.replace(/\s+:/, ':'), {
      cause: error,
      details: { issues: e.validation },
    });
  }
  const code = e.statusCode !== undefined ? STATUS_TO_CODE[e.statusCode] : undefined;
  if (code) {
    return new ModelManagerError(code, e.message ?? code, { cause: error, details: e.code ? { reason: e.code } : {} });
  }
  return new ModelManagerError('INTERNAL', 'internal server error; the server log has the details', { cause: error });
}

/**
 * The error for a request Node's HTTP parser refused before any route saw it (headers too large,
 * too slow, malformed), so that answer too has the error shape and a stable code.
 */
export function fromClientError(error: NodeJS.ErrnoException): ModelManagerError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ModelManagerError('HEADERS_TOO_LARGE', 'the request line and headers are too large (a long query string?); send long inputs in a POST body', {
        cause: error,
        details: { reason: error.code },
      });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ModelManagerError('REQUEST_TIMEOUT', 'the request did not arrive in time; send it again', { cause: error, details: { reason: error.code } });
    default:
      return new ModelManagerError('INVALID_ARGUMENT', 'malformed HTTP request', { cause: error, details: error.code ? { reason: error.code } : {} });
  }
}

/**
 * Turns a runtime `Result` failure into the error it stands for (unknown codes become TASK_FAILED),
 * keeping its `cause` for the server's log; the response body never holds it (`toJSON()`).
 */
export function fromResultError(error: { code: string; message: string; details?: unknown; cause?: unknown }): ModelManagerError {
  const details = typeof error.details === 'object' && error.details !== null ? (error.details as Record<string, unknown>) : {};
  return new ModelManagerError(isKnownCode(error.code) ? error.code : 'TASK_FAILED', error.message, { details, ...(error.cause === undefined ? {} : { cause: error.cause }) });
}

/** The response for an error: status from the code, Retry-After when waiting helps. */
export function toHttpError(error: unknown): HttpError {
  const err = asModelManagerError(error);
  const headers: Record<string, string> = {};
  if (RETRYABLE.has(err.code)) {
    const seconds = Number(err.details.retryAfterSeconds);
    headers['retry-after'] = String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1);
  }
  return { status: err.status, headers, body: { error: err.toJSON() } };
}
