import type { Etcd3 } from 'etcd3';
import { createEtcd } from '../../../shared/registry/etcd';
import { GatewayRegistration } from '../../../shared/registry/gateway-registration';
import { Registry } from '../../../shared/registry/registry';
import type { DeviceEntry } from '../../../shared/registry/record';
import { eventually, uid } from '../../support/env';
import { deletePrefix, newEtcd, registryConfig, type RegistrySection } from './support/registry';

/** The etcd client a Registry needs, counting the KV calls it makes. */
function counted(etcd: Etcd3) {
  const calls = { txn: 0, range: 0 };
  const kv = new Proxy(etcd.kv, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop === 'txn' || prop === 'range') calls[prop] += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client: { kv, watchClient: etcd.watchClient }, calls };
}

describe('Registry (router side, real etcd)', () => {
  const etcd = newEtcd();
  let config: RegistrySection;
  let cleanup: Array<() => Promise<void> | void>;

  beforeEach(() => {
    config = registryConfig();
    cleanup = [];
  });
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    await deletePrefix(etcd, config.prefix);
  });
  afterAll(() => etcd.close());

  const gateway = (address: string): GatewayRegistration => {
    const reg = new GatewayRegistration({ etcd, config, gatewayAddress: address });
    cleanup.push(() => reg.close());
    return reg;
  };
  const registry = (client: Pick<Etcd3, 'kv' | 'watchClient'> = etcd, section = config): Registry => {
    const r = new Registry({ etcd: client, config: section, watchCheckIntervalMs: 500 });
    cleanup.push(() => r.close());
    return r;
  };

  it('sees a put (over a cached "no devices") and a delete through its watch within a bounded time', async () => {
    const r = registry();
    await r.whenLive(5000);
    const userId = uid('u');
    expect(await r.lookup(userId)).toEqual([]); // a miss, cached as "none"
    const gw = gateway('10.0.0.7:9093');

    const entry = await gw.register(userId, 'phone');
    let t0 = Date.now();
    await eventually(async () => (await r.lookup(userId)).length === 1, 3000, 2);
    const putSeenMs = Date.now() - t0;
    expect(await r.lookup(userId)).toEqual([entry]);

    await gw.deregister(userId, 'phone');
    t0 = Date.now();
    await eventually(async () => (await r.lookup(userId)).length === 0, 3000, 2);
    const deleteSeenMs = Date.now() - t0;

    // Every answer after the first came from the cache: the watch, not a re-read, moved it.
    expect(r.stats()).toMatchObject({ misses: 1, errors: 0 });
    expect(putSeenMs).toBeLessThan(1000);
    expect(deleteSeenMs).toBeLessThan(1000);
    console.log(`registry cache saw a put after ${putSeenMs} ms and a delete after ${deleteSeenMs} ms`);
  });

  it('looks up many users in one transaction per 128 users, then from its cache', async () => {
    const users = Array.from({ length: 300 }, (_, i) => `member-${i}:${uid()}`);
    const gws = [gateway('gw-a:9093'), gateway('gw-b:9093')];
    const expected = new Map<string, DeviceEntry[]>(users.map((u) => [u, []]));
    const online = users.filter((_, i) => i % 3 === 0);
    for (let i = 0; i < online.length; i += 25) {
      await Promise.all(
        online.slice(i, i + 25).flatMap((u, j) => {
          const devices = (i + j) % 2 === 0 ? ['phone'] : ['phone', 'laptop|2'];
          return devices.map(async (d, k) => {
            const entry = await gws[k]!.register(u, d);
            expected.get(u)!.push(entry);
          });
        }),
      );
    }
    const { client, calls } = counted(etcd);
    const r = registry(client);
    await r.whenLive(5000);

    const found = await r.lookupMany([...users, users[0]!]);
    expect(found.size).toBe(300);
    for (const u of users) {
      expect(sortById(found.get(u)!)).toEqual(sortById(expected.get(u)!));
    }
    expect(calls.txn).toBe(Math.ceil(300 / 128));

    const again = await r.lookupMany(users);
    expect(again).toEqual(found);
    expect(calls.txn).toBe(Math.ceil(300 / 128));
    expect(r.stats()).toMatchObject({ hits: 300, misses: 300 });
  });

  it('shares one read between concurrent misses of the same user', async () => {
    const { client, calls } = counted(etcd);
    const r = registry(client);
    await r.whenLive(5000);
    const [u, v] = [uid('u'), uid('v')];
    await gateway('gw-a:9093').register(u, 'phone');
    const [a, b, many] = await Promise.all([r.lookup(u), r.lookup(u), r.lookupMany([u, v])]);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
    expect(many.get(u)).toEqual(a);
    expect(many.get(v)).toEqual([]);
    expect(calls.txn).toBe(2); // one for u (shared three ways), one for v
  });

  it('works with the cache disabled (REGISTRY_CACHE_SIZE=0): every lookup reads etcd', async () => {
    const section = { ...config, cacheSize: 0 };
    const { client, calls } = counted(etcd);
    const r = registry(client, section);
    const userId = uid('u');
    await gateway('gw-a:9093').register(userId, 'phone');
    expect(r.live()).toBe(true);
    expect(await r.lookup(userId)).toHaveLength(1);
    expect(await r.lookup(userId)).toHaveLength(1);
    expect(calls.txn).toBe(2);
    expect(r.stats()).toMatchObject({ cacheEntries: 0, watch: null });
  });

  it('fails with REGISTRY_ERROR within its deadline when etcd is unreachable', async () => {
    const section = registryConfig({ REGISTRY_LOOKUP_TIMEOUT: '500ms' });
    const nowhere = createEtcd({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 1000 });
    cleanup.push(() => nowhere.close());
    const r = registry(nowhere, section);
    r.start();
    const many = Array.from({ length: 500 }, (_, i) => `u-${i}`);
    for (const call of [() => r.lookup('alice'), () => r.lookupMany(many), () => r.lookup('alice')]) {
      const t0 = Date.now();
      await expect(call()).rejects.toMatchObject({ code: 'REGISTRY_ERROR', retryable: true });
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeLessThan(500 + 250);
    }
    await expect(r.whenLive(300)).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
    expect(r.stats()).toMatchObject({ errors: 3, cacheLive: false });
  });

  it('refuses malformed user ids with INVALID_ARGUMENT', async () => {
    const r = registry();
    await expect(r.lookup('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(r.lookupMany(['ok', 'x'.repeat(300)])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

const sortById = (devices: DeviceEntry[]) => [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
