import { loadConfig } from '../../shared/config';
import { createEtcd, pingEtcd } from '../../shared/registry/etcd';
import { eventually, uid } from '../support/env';

describe('etcd (real server)', () => {
  const cfg = loadConfig(process.env).etcd;
  const etcd = createEtcd(cfg);
  afterAll(() => etcd.close());

  it('answers a status call', async () => {
    await pingEtcd(etcd, 2000);
  });

  it('drops a key when its lease is not kept alive', async () => {
    const key = `/im-test/${uid('lease')}`;
    // A second client whose lease we abandon by closing it without revoking.
    const other = createEtcd(cfg);
    const lease = other.lease(2, { autoKeepAlive: false });
    await lease.put(key).value('gw-1:9093|d1');
    expect(await etcd.get(key).string()).toBe('gw-1:9093|d1');
    other.close();
    await eventually(async () => (await etcd.get(key).string()) === null, 8000, 200);
  });
});
