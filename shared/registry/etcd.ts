/**
 * The etcd client (etcd3). Registry logic lives beside it; this module only connects
 * and answers health checks within a bounded time.
 *
 * Fault handling is narrower than etcd3's defaults, which retry three times and count
 * towards a 5 s per-host circuit breaker on every "recoverable" error — including
 * DEADLINE_EXCEEDED and CANCELLED. The registry puts short deadlines on its calls, so
 * with those defaults one slow lookup was retried instantly against its already
 * expired deadline, tripped the breaker, and failed every call of the process for
 * 5 s. Here only UNAVAILABLE (etcd or the network is down) is retried once and trips
 * the breaker, which half-opens after 1 s so that recovery follows etcd within a second.
 */
import { circuitBreaker, ConsecutiveBreaker, ConstantBackoff, handleType, retry } from 'cockatiel';
import { Etcd3, GRPCUnavailableError } from 'etcd3';
import type { Config } from '../config';
import { withTimeout } from '../runtime/timeout';

export { Etcd3 } from 'etcd3';

export const ETCD_BREAKER_HALF_OPEN_MS = 1000;

export function createEtcd(cfg: Config['etcd']): Etcd3 {
  return new Etcd3({
    hosts: cfg.endpoints,
    dialTimeout: cfg.dialTimeoutMs,
    faultHandling: {
      global: retry(handleType(GRPCUnavailableError), { maxAttempts: 1, backoff: new ConstantBackoff(50) }),
      host: () =>
        circuitBreaker(handleType(GRPCUnavailableError), {
          halfOpenAfter: ETCD_BREAKER_HALF_OPEN_MS,
          breaker: new ConsecutiveBreaker(3),
        }),
    },
  });
}

export async function pingEtcd(etcd: Etcd3, timeoutMs: number): Promise<void> {
  await withTimeout(etcd.maintenance.status(), timeoutMs, 'etcd status');
}
