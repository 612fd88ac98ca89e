/**
 * Helpers for registry tests against the shared etcd: a unique key prefix per test (so
 * concurrent runs never see each other's devices), second-scale lease timings, and
 * cleanup of the prefix afterwards.
 */
import { createEtcd, type Etcd3 } from '../../../../shared/registry/etcd';
import { prefixRangeEnd } from '../../../../shared/registry/keys';
import type { Config } from '../../../../shared/config';
import { testConfig, uid } from '../../../support/env';

export type RegistrySection = Config['registry'];

/** Registry config with a fresh `/im-test/<uid>/` prefix, a 2 s TTL and 0.5 s keepalives. */
export function registryConfig(overrides: Record<string, string> = {}): RegistrySection {
  return testConfig({
    REGISTRY_PREFIX: `/im-test/${uid('reg')}/`,
    REGISTRY_TTL: '2s',
    REGISTRY_KEEPALIVE_INTERVAL: '500ms',
    REGISTRY_LOOKUP_TIMEOUT: '1s',
    ...overrides,
  }).registry;
}

export function etcdConfig(): Config['etcd'] {
  return testConfig().etcd;
}

export function newEtcd(): Etcd3 {
  return createEtcd(etcdConfig());
}

/** Every key under `prefix`, as strings, read directly from etcd. */
export async function keysUnder(etcd: Etcd3, prefix: string): Promise<string[]> {
  const res = await etcd.kv.range({ key: Buffer.from(prefix), range_end: prefixRangeEnd(prefix), keys_only: true });
  return res.kvs.map((kv) => kv.key.toString());
}

export async function deletePrefix(etcd: Etcd3, prefix: string): Promise<void> {
  await etcd.kv.deleteRange({ key: Buffer.from(prefix), range_end: prefixRangeEnd(prefix) });
}
