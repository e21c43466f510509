/**
 * The requests of a pull: the repo's connection settings, retries with backoff for answers that
 * mean "try again" (429, 5xx, a dropped connection), and the coded error for the rest.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelManagerError } from '../../errors.js';
import { hubError, hubStatusError } from '../hub-client.js';

/** How a pull talks to one repo on one hub. */
export interface HubTarget {
  repoId: string;
  /** Hub base URL, without a trailing slash. */
  endpoint: string;
  token?: string;
  fetch: typeof fetch;
  /** Milliseconds a request may wait for its answer's headers. */
  timeoutMs: number;
  /** Attempts after the first, for each request (and for each range, counted from its last progress). */
  retries: number;
  /** First backoff; it doubles each attempt (with jitter), up to 30 s. */
  retryBaseMs: number;
  signal?: AbortSignal;
}

/** Statuses worth another try: timeouts, rate limits and server errors (as huggingface_hub retries). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Milliseconds to wait before attempt `attempt` (1-based): the server's Retry-After when it gave one, else exponential with jitter. */
export function backoffMs(attempt: number, baseMs: number, retryAfter?: string | null): number {
  const seconds = retryAfter == null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 60_000);
  return Math.min(baseMs * 2 ** (attempt - 1), 30_000) * (0.5 + Math.random());
}

/** Waits, or throws INTERRUPTED when the pull is stopped meanwhile. */
export async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw interrupted();
  }
}

export function interrupted(): ModelManagerError {
  return new ModelManagerError('INTERRUPTED', 'the pull was stopped; run it again to resume where it stopped');
}

/** A failed answer (a `Response`, or a range GET's answer) as a coded error (AUTH_REQUIRED, HUB_NOT_FOUND, HUB_UNREACHABLE). */
export function statusError(target: HubTarget, answer: { status: number; url: string }): ModelManagerError {
  return hubStatusError(answer.status, target.repoId, target.endpoint, target.token !== undefined, { url: answer.url });
}

/** A thrown fetch error as a coded error; a stop asked for is INTERRUPTED. */
export function networkError(target: HubTarget, error: unknown): ModelManagerError {
  if (target.signal?.aborted) return interrupted();
  return hubError(error, target.repoId, target.endpoint, target.token !== undefined);
}

/**
 * Sends a request until it gets an answer that is not worth retrying, waiting between attempts.
 * Returns the last answer (ok or not); throws when the connection itself kept failing.
 */
export async function requestWithRetries(target: HubTarget, url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    if (target.signal?.aborted) throw interrupted();
    const timeout = AbortSignal.timeout(target.timeoutMs);
    let response: Response | undefined;
    let failure: unknown;
    try {
      response = await target.fetch(url, { ...init, signal: target.signal ? AbortSignal.any([target.signal, timeout]) : timeout });
    } catch (error) {
      failure = error;
    }
    if (response && !isRetryableStatus(response.status)) return response;
    if (attempt > target.retries) {
      if (response) return response;
      throw networkError(target, failure);
    }
    await response?.body?.cancel().catch(() => undefined);
    await pause(backoffMs(attempt, target.retryBaseMs, response?.headers.get('retry-after')), target.signal);
  }
}
