/**
 * The retry schedule of Kafka consumers: RETRY_BACKOFF's steps (1s,2s,4s,8s,16s by
 * default), each spread by ±jitter so that replicas retrying against the same
 * recovering database do not hit it in lockstep. Pure; the consumer sleeps.
 */

export const DEFAULT_JITTER = 0.2;

/**
 * Delay before retry number `retry` (0-based). Retries beyond the schedule reuse its
 * last step; an empty schedule retries at once.
 */
export function retryDelay(
  schedule: readonly number[],
  retry: number,
  random: () => number = Math.random,
  jitter: number = DEFAULT_JITTER,
): number {
  if (schedule.length === 0) return 0;
  const base = schedule[Math.min(Math.max(retry, 0), schedule.length - 1)] as number;
  const factor = 1 - jitter + 2 * jitter * random();
  return Math.max(0, Math.round(base * factor));
}

/** Longest time `maxRetries` retries can sleep in total (for grace-period sizing). */
export function worstCaseRetryMs(schedule: readonly number[], maxRetries: number, jitter: number = DEFAULT_JITTER): number {
  let total = 0;
  for (let i = 0; i < maxRetries; i++) total += retryDelay(schedule, i, () => 1, jitter);
  return total;
}
