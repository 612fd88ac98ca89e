/**
 * The registry when its connection to etcd breaks: a TCP proxy between the client
 * under test and etcd is cut and restored, while the test keeps writing through a
 * direct connection. Compaction runs on a throwaway etcd of the test's own.
 */
import { Etcd3 } from 'etcd3';
import { createEtcd } from '../../../shared/registry/etcd';
import { GatewayRegistration } from '../../../shared/registry/gateway-registration';
import { Registry } from '../../../shared/registry/registry';
import { eventually, uid } from '../../support/env';
import { startPrivateEtcd } from './support/private-etcd';
import { deletePrefix, etcdConfig, newEtcd, registryConfig, type RegistrySection } from './support/registry';
import { TcpProxy } from './support/tcp-proxy';

const hostPort = (endpoint: string): [string, number] => {
  const url = new URL(endpoint);
  return [url.hostname, Number(url.port)];
};

describe('registry under etcd connection faults', () => {
  const direct = newEtcd();
  let config: RegistrySection;
  let cleanup: Array<() => Promise<void> | void>;

  beforeEach(() => {
    config = registryConfig({ REGISTRY_LOOKUP_TIMEOUT: '500ms' });
    cleanup = [];
  });
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    await deletePrefix(direct, config.prefix);
  });
  afterAll(() => direct.close());

  /** A proxy to `endpoint` and an etcd client that goes through it. */
  async function throughProxy(endpoint: string): Promise<{ proxy: TcpProxy; client: Etcd3 }> {
    const proxy = new TcpProxy(...hostPort(endpoint));
    const client = createEtcd({ endpoints: [await proxy.start()], dialTimeoutMs: 1000 });
    cleanup.push(() => proxy.close());
    cleanup.push(() => client.close());
    return { proxy, client };
  }

  it('serves nothing cached while its watch is broken, then resumes from its last revision', async () => {
    const { proxy, client } = await throughProxy(etcdConfig().endpoints[0]!);
    const r = new Registry({ etcd: client, config, watchCheckIntervalMs: 300 });
    cleanup.push(() => r.close());
    const gw = new GatewayRegistration({ etcd: direct, config, gatewayAddress: 'gw-a:9093' });
    cleanup.push(() => gw.close());
    await r.whenLive(5000);
    const [a, b] = [uid('a'), uid('b')];
    await gw.register(a, 'phone');
    expect(await r.lookup(a)).toHaveLength(1);
    expect(await r.lookup(b)).toEqual([]);
    const missesBefore = r.stats()['misses'];

    proxy.cut();
    await eventually(() => !r.live(), 3000, 20);
    // Both users are cached, but a broken watch means etcd is asked, and etcd is out of reach.
    for (const user of [a, b]) {
      const t0 = Date.now();
      await expect(r.lookup(user)).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
      expect(Date.now() - t0).toBeLessThan(500 + 250);
    }
    // The registry changes while this router cannot see it.
    await gw.deregister(a, 'phone');
    const bEntry = await gw.register(b, 'laptop');

    proxy.restore();
    const restoredAt = Date.now();
    await r.whenLive(10000);
    // Reconnect backoff is capped at 2 s and the client's circuit breaker half-opens after 1 s.
    expect(Date.now() - restoredAt).toBeLessThan(4000);
    await eventually(async () => (await r.lookup(a)).length === 0 && (await r.lookup(b)).length === 1, 3000, 20);
    expect(await r.lookup(b)).toEqual([bEntry]);
    // The missed events were replayed into the cache: no re-read, no reset.
    expect(r.stats()['misses']).toBe(missesBefore);
    expect(r.stats()['watch']).toMatchObject({ resets: 0 });
  });

  it('declares its lease lost when keepalives go unanswered for a TTL, and re-registers when etcd is back', async () => {
    const { proxy, client } = await throughProxy(etcdConfig().endpoints[0]!);
    const gw = new GatewayRegistration({ etcd: client, config, gatewayAddress: 'gw-cut:9093', requestTimeoutMs: 1000 });
    cleanup.push(() => gw.close());
    const observer = new Registry({ etcd: direct, config: { ...config, cacheSize: 0 } });
    cleanup.push(() => observer.close());
    const userId = uid('u');
    const entry = await gw.register(userId, 'phone');
    const firstLease = gw.leaseId();

    proxy.cut();
    // etcd expires the lease (2 s TTL) and the gateway stops believing in it on its own.
    await eventually(async () => (await observer.lookup(userId)).length === 0, 6000, 100);
    await eventually(() => gw.leaseId() === undefined, 6000, 50);
    await expect(gw.register(userId, 'tablet')).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });

    proxy.restore();
    await eventually(async () => (await observer.lookup(userId)).length === 1, 10000, 100);
    expect(await observer.lookup(userId)).toEqual([entry]);
    expect(gw.leaseId()).not.toBe(firstLease);
    expect(gw.stats()).toMatchObject({ leaseRenewals: 1, devices: 1, dirty: 0 });
  });

  it('resets its cache and re-reads when the history it would resume from was compacted', async () => {
    const etcd = await startPrivateEtcd();
    cleanup.push(() => etcd.stop());
    const own = new Etcd3({ hosts: [etcd.endpoint] });
    cleanup.push(() => own.close());
    const { proxy, client } = await throughProxy(etcd.endpoint);
    const r = new Registry({ etcd: client, config, watchCheckIntervalMs: 300 });
    cleanup.push(() => r.close());
    const gw = new GatewayRegistration({ etcd: own, config, gatewayAddress: 'gw-a:9093' });
    cleanup.push(() => gw.close());
    await r.whenLive(5000);
    const userId = uid('u');
    await gw.register(userId, 'phone');
    expect(await r.lookup(userId)).toHaveLength(1);

    proxy.cut();
    await eventually(() => !r.live(), 3000, 20);
    await gw.deregister(userId, 'phone');
    const tablet = await gw.register(userId, 'tablet');
    const { header } = await own.kv.range({ key: Buffer.from('/') });
    await own.kv.compact({ revision: header.revision, physical: true });

    proxy.restore();
    await eventually(() => (r.stats()['watch'] as { resets: number }).resets === 1 && r.live(), 10000, 20);
    expect(await r.lookup(userId)).toEqual([tablet]);
  });
});
