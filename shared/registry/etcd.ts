/**
 * The etcd client (etcd3). Registry logic lives beside it; this module only connects
 * and answers health checks within a bounded time.
 */
import { Etcd3 } from 'etcd3';
import type { Config } from '../config';
import { withTimeout } from '../runtime/timeout';

export { Etcd3 } from 'etcd3';

export function createEtcd(cfg: Config['etcd']): Etcd3 {
  return new Etcd3({ hosts: cfg.endpoints, dialTimeout: cfg.dialTimeoutMs });
}

export async function pingEtcd(etcd: Etcd3, timeoutMs: number): Promise<void> {
  await withTimeout(etcd.maintenance.status(), timeoutMs, 'etcd status');
}
