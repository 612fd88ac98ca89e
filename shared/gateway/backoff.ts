/**
 * The pause before a gateway push is tried again: exponential from
 * GATEWAY_RETRY_BACKOFF, jittered ±50% so that routers retrying against the same
 * recovering gateway do not hit it in lockstep, and never past the caller's deadline.
 * Pure; the client sleeps.
 */

/** Upper bound of one pause, whatever the attempt number. */
export const MAX_BACKOFF_MS = 2000;

/** Pause before retry number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, baseMs: number, random: () => number = Math.random): number {
  if (baseMs <= 0) return 0;
  const exp = Math.min(baseMs * 2 ** Math.max(0, retry - 1), MAX_BACKOFF_MS);
  return Math.round(exp * (0.5 + random()));
}

/**
 * Whether another attempt fits: after the pause there must be at least `minAttemptMs`
 * left before `deadline` for the call itself, else retrying only burns the time the
 * caller needs for its fallback.
 */
export function retryFits(now: number, delayMs: number, deadline: number, minAttemptMs: number): boolean {
  return now + delayMs + minAttemptMs <= deadline;
}
