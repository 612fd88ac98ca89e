/**
 * A circuit breaker for one gateway address: after `threshold` consecutive failed calls
 * the gateway is not called for `cooldownMs`; then exactly one probe call is let
 * through, whose outcome closes the circuit again or re-opens it for another cooldown.
 *
 * A small state machine rather than a library (cockatiel, opossum): it is pure and
 * synchronous over an injected clock (no timers, so nothing to clean up per address
 * and deterministic tests), and the retry loop around it needs the caller's absolute
 * deadline, which the libraries' policies do not model.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit (GATEWAY_CIRCUIT_BREAKER_THRESHOLD). */
  readonly threshold: number;
  /** How long an open circuit refuses calls (GATEWAY_CIRCUIT_BREAKER_COOLDOWN). */
  readonly cooldownMs: number;
}

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(private readonly opts: BreakerOptions) {}

  /** The state as of `now` (an open circuit whose cooldown ended reads half-open). */
  state(now: number): BreakerState {
    if (this.#state === 'open' && now - this.#openedAt >= this.opts.cooldownMs) return 'half-open';
    return this.#state;
  }

  /**
   * Whether a call may go out now. In half-open state only the first caller gets
   * true (the probe) until that probe reports back.
   */
  tryAcquire(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.#probing) return false;
    this.#state = 'half-open';
    this.#probing = true;
    return true;
  }

  onSuccess(): void {
    this.#state = 'closed';
    this.#failures = 0;
    this.#probing = false;
  }

  onFailure(now: number): void {
    if (this.#state === 'half-open') {
      this.#open(now);
      return;
    }
    this.#failures += 1;
    if (this.#state === 'closed' && this.#failures >= this.opts.threshold) this.#open(now);
  }

  /** A call that went out but ended without a verdict (cancelled by our caller). */
  onAbandon(): void {
    this.#probing = false;
  }

  #open(now: number): void {
    this.#state = 'open';
    this.#openedAt = now;
    this.#probing = false;
    this.#failures = 0;
  }
}
