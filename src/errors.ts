/**
 * The one error class of Model Manager and its catalogue of stable codes.
 *
 * Codes are part of the contract: scripts match on them (CLI `--json`, HTTP `error.code`,
 * `Result.error.code`), so a code is never renamed; add new ones instead.
 */

/** Every stable error code, with the HTTP status it maps to. */
export const ERROR_CODES = {
  // input
  INVALID_ARGUMENT: 400,
  INVALID_METADATA: 400,
  INVALID_CONFIG: 400,
  INVALID_FILE: 400,
  UNSUPPORTED_FORMAT: 400,
  UNSUPPORTED_TASK: 400,
  INVALID_TASK_DATA: 400,
  PAYLOAD_TOO_LARGE: 413,
  /** The request line and headers together (a long query string, say) exceed what the server reads. */
  HEADERS_TOO_LARGE: 431,
  /** The request did not arrive in full within the server's time limit. */
  REQUEST_TIMEOUT: 408,
  // registry
  MODEL_NOT_FOUND: 404,
  MODEL_EXISTS: 409,
  VERSION_NOT_FOUND: 404,
  VERSION_CONFLICT: 409,
  // storage
  STORE_CORRUPT: 500,
  STORE_FOREIGN: 500,
  STORE_LOCKED: 503,
  STORE_IO: 500,
  /** The store was written by a newer Model Manager (its schema is ahead of this code). */
  STORE_TOO_NEW: 500,
  // hugging face
  HUB_UNREACHABLE: 502,
  HUB_NOT_FOUND: 404,
  AUTH_REQUIRED: 401,
  OFFLINE: 503,
  /** Downloaded bytes that do not hash to what the hub says they are. */
  CHECKSUM_MISMATCH: 502,
  /** Not enough free disk space for what a pull must write. */
  DISK_FULL: 507,
  /** A pull stopped on request (Ctrl-C); it resumes where it stopped when run again. */
  INTERRUPTED: 499,
  // discovery
  PATH_NOT_ALLOWED: 403,
  FILE_NOT_FOUND: 404,
  // runtime
  /** A name asked of the configured models (getModelConfig, getEmbeddingModel, ...) that the settings do not hold. */
  MODEL_NOT_CONFIGURED: 404,
  /** A configured model asked for a task it is not configured for (an embedding model for text generation, say). */
  INVALID_MODEL_TYPE: 400,
  BACKEND_MISSING: 501,
  MODEL_LOAD_FAILED: 500,
  OUT_OF_MEMORY: 507,
  QUEUE_FULL: 503,
  TASK_FAILED: 500,
  SHUTTING_DOWN: 503,
  /** The caller gave up on the task (its AbortSignal fired, or the HTTP client hung up); 499 as nginx logs it. */
  CANCELLED: 499,
  /** A GPU worker process ended (a driver abort, a kill) while it held the request; a retry starts a new one. */
  WORKER_LOST: 503,
  /** A loaded instance was called after it was disposed (its model freed under the call); a new request loads the model again. */
  MODEL_DISPOSED: 503,
  // server
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  /** A server feature (discovery, runtime) that this process was started without. */
  NOT_ENABLED: 501,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ModelManagerErrorOptions {
  /** The error this one wraps; kept so the whole chain can be read. */
  cause?: unknown;
  /** Structured facts for scripts (field names, paths, limits). */
  details?: Record<string, unknown>;
}

/** The error every part of Model Manager throws: a stable `code`, a message that says what to do, and the `cause`. */
export class ModelManagerError extends Error {
  override readonly name = 'ModelManagerError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ModelManagerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The HTTP status that fits this error's code. */
  get status(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `error` is a ModelManagerError, optionally with the given code. */
export function isModelManagerError(error: unknown, code?: ErrorCode): error is ModelManagerError {
  return error instanceof ModelManagerError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a ModelManagerError, keeping the original as `cause`. */
export function toModelManagerError(error: unknown, fallback: ErrorCode = 'INTERNAL'): ModelManagerError {
  if (error instanceof ModelManagerError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ModelManagerError(fallback, message, { cause: error });
}
