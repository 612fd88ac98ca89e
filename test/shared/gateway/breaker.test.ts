/** The per-gateway circuit breaker and the retry backoff: pure state, injected clock. */
import fc from 'fast-check';
import { backoffDelay, MAX_BACKOFF_MS, retryFits } from '../../../shared/gateway/backoff';
import { CircuitBreaker } from '../../../shared/gateway/breaker';

describe('CircuitBreaker', () => {
  const make = () => new CircuitBreaker({ threshold: 3, cooldownMs: 1000 });

  it('opens after `threshold` consecutive failures, not before', () => {
    const b = make();
    b.onFailure(0);
    b.onFailure(0);
    expect(b.tryAcquire(0)).toBe(true);
    b.onFailure(0);
    expect(b.state(0)).toBe('open');
    expect(b.tryAcquire(999)).toBe(false);
  });

  it('a success in between resets the count', () => {
    const b = make();
    b.onFailure(0);
    b.onFailure(0);
    b.onSuccess();
    b.onFailure(0);
    b.onFailure(0);
    expect(b.state(0)).toBe('closed');
  });

  it('after the cooldown lets exactly one probe through; its success closes the circuit', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.onFailure(0);
    expect(b.state(1000)).toBe('half-open');
    expect(b.tryAcquire(1000)).toBe(true);
    expect(b.tryAcquire(1001)).toBe(false);
    b.onSuccess();
    expect(b.state(1001)).toBe('closed');
    expect(b.tryAcquire(1001)).toBe(true);
  });

  it('a failed probe re-opens for a full cooldown', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.onFailure(0);
    expect(b.tryAcquire(1500)).toBe(true);
    b.onFailure(1500);
    expect(b.tryAcquire(2400)).toBe(false);
    expect(b.tryAcquire(2500)).toBe(true);
  });

  it('an abandoned probe lets the next caller probe', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.onFailure(0);
    expect(b.tryAcquire(1000)).toBe(true);
    b.onAbandon();
    expect(b.tryAcquire(1000)).toBe(true);
  });

  it('never lets a call through while open, whatever the sequence of events', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('fail' as const), dt: fc.nat(600) }),
      fc.record({ kind: fc.constant('ok' as const), dt: fc.nat(600) }),
      fc.record({ kind: fc.constant('try' as const), dt: fc.nat(600) }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const b = make();
        let now = 0;
        let openedAt = -Infinity;
        for (const e of events) {
          now += e.dt;
          const before = b.state(now);
          if (e.kind === 'try') {
            const ok = b.tryAcquire(now);
            if (before === 'open') expect(ok).toBe(false);
            if (ok && before !== 'closed') expect(now - openedAt).toBeGreaterThanOrEqual(1000);
          } else if (e.kind === 'fail') {
            b.onFailure(now);
          } else {
            b.onSuccess();
          }
          if (before !== 'open' && b.state(now) === 'open') openedAt = now;
        }
      }),
    );
  });
});

describe('backoff', () => {
  it('grows exponentially from the base, jittered ±50%, capped', () => {
    expect(backoffDelay(1, 50, () => 0.5)).toBe(50);
    expect(backoffDelay(2, 50, () => 0.5)).toBe(100);
    expect(backoffDelay(3, 50, () => 0)).toBe(100);
    expect(backoffDelay(3, 50, () => 0.999)).toBeLessThanOrEqual(300);
    expect(backoffDelay(30, 50, () => 0.5)).toBe(MAX_BACKOFF_MS);
    expect(backoffDelay(1, 0, () => 0.5)).toBe(0);
  });

  it('only retries when an attempt still fits before the deadline', () => {
    expect(retryFits(0, 50, 100, 5)).toBe(true);
    expect(retryFits(0, 96, 100, 5)).toBe(false);
    expect(retryFits(0, 10, Infinity, 5)).toBe(true);
  });
});
