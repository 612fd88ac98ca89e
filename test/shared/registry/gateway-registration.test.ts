import { GatewayRegistration } from '../../../shared/registry/gateway-registration';
import { Registry } from '../../../shared/registry/registry';
import { eventually, uid } from '../../support/env';
import { deletePrefix, keysUnder, newEtcd, registryConfig, type RegistrySection } from './support/registry';

describe('GatewayRegistration (real etcd, 2 s leases)', () => {
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

  const gateway = (address: string, client = etcd): GatewayRegistration => {
    const reg = new GatewayRegistration({ etcd: client, config, gatewayAddress: address });
    cleanup.push(() => reg.close());
    return reg;
  };
  const registry = (): Registry => {
    const r = new Registry({ etcd, config: { ...config, cacheSize: 0 } });
    cleanup.push(() => r.close());
    return r;
  };

  it('round-trips ids and gateway addresses containing ":" and "|"', async () => {
    const gw = gateway('10.0.0.1:9093|zone-a');
    const userId = `user:${uid()}|a/b%2F用户🙂`;
    const deviceId = 'device|1:ios/x';
    const before = Date.now();
    const entry = await gw.register(userId, deviceId);
    expect(entry).toEqual({ userId, deviceId, gatewayAddress: '10.0.0.1:9093|zone-a', registeredAt: expect.any(Number) });
    expect(entry.registeredAt).toBeGreaterThanOrEqual(before);
    expect(await registry().lookup(userId)).toEqual([entry]);
  });

  it('registers several devices of one user on different gateways', async () => {
    const userId = uid('u');
    const a = await gateway('gw-a:9093').register(userId, 'phone');
    const b = await gateway('gw-b:9093').register(userId, 'laptop');
    const found = await registry().lookup(userId);
    expect(found).toHaveLength(2);
    expect(found).toEqual(expect.arrayContaining([a, b]));
  });

  it('replaces a re-registered device without counting it twice, and leaves it to its new gateway', async () => {
    config = registryConfig({ MAX_DEVICES_PER_USER: '2' });
    const userId = uid('u');
    const gwA = gateway('gw-a:9093');
    const gwB = gateway('gw-b:9093');
    await gwA.register(userId, 'phone');
    await gwA.register(userId, 'tablet');
    await gwA.register(userId, 'phone'); // same device again: still 2 devices
    const moved = await gwB.register(userId, 'phone'); // reconnected through gateway B
    expect(await keysUnder(etcd, config.prefix)).toHaveLength(2);
    // Gateway A notices its old connection closing late: B's entry must stay.
    expect(await gwA.deregister(userId, 'phone')).toBe(false);
    expect(await registry().lookup(userId)).toEqual(expect.arrayContaining([moved]));
    expect(await gwB.deregister(userId, 'phone')).toBe(true);
    expect((await registry().lookup(userId)).map((d) => d.deviceId)).toEqual(['tablet']);
    expect(await gwB.deregister(userId, 'never-registered')).toBe(false);
  });

  it('holds the device cap under 20 concurrent registrations from 2 gateways', async () => {
    const userId = uid('u');
    const gateways = [gateway('gw-a:9093'), gateway('gw-b:9093')];
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => gateways[i % 2]!.register(userId, `device-${i}`)),
    );
    const stored = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(stored).toHaveLength(config.maxDevicesPerUser);
    expect(refused.map((r) => (r.reason as { code: string }).code)).toEqual(
      Array(20 - config.maxDevicesPerUser).fill('DEVICE_LIMIT_EXCEEDED'),
    );
    expect(await keysUnder(etcd, config.prefix)).toHaveLength(config.maxDevicesPerUser);
    expect(await registry().lookup(userId)).toHaveLength(config.maxDevicesPerUser);
  });

  it('lets an entry expire when keepalives stop (client gone without revoking)', async () => {
    const own = newEtcd();
    const gw = new GatewayRegistration({ etcd: own, config, gatewayAddress: 'gw-dying:9093' });
    cleanup.push(() => gw.release());
    const userId = uid('u');
    await gw.register(userId, 'phone');
    expect(await registry().lookup(userId)).toHaveLength(1);
    const stoppedAt = Date.now();
    own.close(); // the gateway process "dies": no revoke, no more keepalives
    await eventually(async () => (await registry().lookup(userId)).length === 0, 8000, 100);
    const gone = Date.now() - stoppedAt;
    // Lease TTL is 2 s; etcd expires it within TTL (plus its own expiry-check granularity).
    expect(gone).toBeLessThan(4500);
  });

  it('release() stops keepalives: entries expire within about one TTL', async () => {
    const gw = new GatewayRegistration({ etcd, config, gatewayAddress: 'gw-released:9093' });
    const userId = uid('u');
    await gw.register(userId, 'phone');
    await gw.release();
    expect(await registry().lookup(userId)).toHaveLength(1);
    await eventually(async () => (await registry().lookup(userId)).length === 0, 8000, 100);
  });

  it('keeps entries alive well past the TTL while keepalives run, and close() removes them at once', async () => {
    const gw = new GatewayRegistration({ etcd, config, gatewayAddress: 'gw-live:9093' });
    const userId = uid('u');
    await gw.register(userId, 'phone');
    await new Promise((r) => setTimeout(r, 3000)); // 1.5 x TTL
    expect(await registry().lookup(userId)).toHaveLength(1);
    await gw.close();
    expect(await registry().lookup(userId)).toEqual([]);
    await expect(gw.register(userId, 'phone')).rejects.toMatchObject({ code: 'REGISTRY_ERROR' });
  });

  it('re-registers every device on a new lease when the lease is lost', async () => {
    const gw = gateway('gw-a:9093');
    const other = gateway('gw-b:9093');
    const users = [uid('u'), uid('u'), uid('u')];
    const entries = await Promise.all(users.map((u) => gw.register(u, 'phone')));
    const lost = gw.leaseId()!;
    // Someone revokes our lease (an operator, or etcd expiring it during a partition).
    await etcd.leaseClient.leaseRevoke({ ID: lost });
    expect(await registry().lookup(users[0]!)).toEqual([]);
    // Meanwhile the first user's phone reconnects through another gateway: that entry is not ours any more.
    const moved = await other.register(users[0]!, 'phone');
    await eventually(() => gw.leaseId() !== undefined && gw.leaseId() !== lost, 5000, 50);
    await eventually(async () => (await registry().lookup(users[2]!)).length === 1, 5000, 50);
    const r = registry();
    expect(await r.lookup(users[0]!)).toEqual([moved]);
    expect(await r.lookup(users[1]!)).toEqual([entries[1]]); // same record, original registeredAt
    expect(await r.lookup(users[2]!)).toEqual([entries[2]]);
    expect(gw.devices()).toHaveLength(2);
    expect(gw.stats()).toMatchObject({ leaseRenewals: 1, dirty: 0 });
  });

  it('refuses malformed ids with INVALID_ARGUMENT and touches nothing', async () => {
    const gw = gateway('gw-a:9093');
    await expect(gw.register('', 'd')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(gw.register('u', '\uD800')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await keysUnder(etcd, config.prefix)).toEqual([]);
  });

  it('refuses a keepalive interval that is not shorter than the TTL', () => {
    expect(
      () =>
        new GatewayRegistration({
          etcd,
          config: { ...config, ttlMs: 2000, keepaliveIntervalMs: 2000 },
          gatewayAddress: 'gw:1',
        }),
    ).toThrow(/REGISTRY_KEEPALIVE_INTERVAL/);
  });
});
