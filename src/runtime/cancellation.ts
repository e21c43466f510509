/**
 * A task's caller giving up: its AbortSignal fired (a stop button, a timeout, an HTTP client that
 * hung up). A cancelled task leaves its queue at once, stops generating at the next token, and
 * ends with CANCELLED instead of holding an instance for an answer no one reads.
 */
import { ModelManagerError } from '../errors.js';

export function cancelled(): ModelManagerError {
  return new ModelManagerError('CANCELLED', 'the task was cancelled by its caller (its signal aborted, or the client hung up)');
}

/** @throws CANCELLED once `signal` has aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}
