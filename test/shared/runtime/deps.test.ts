/**
 * Dependencies builds clients through injected kits: a bundle carries only the kits
 * its function needs, and asking for another client fails with a clear message.
 */
import { Dependencies } from '../../../shared/runtime/deps';
import { mysqlKit } from '../../../shared/runtime/clients/mysql';
import { testConfig, testLogger } from '../../support/env';

describe('Dependencies with a subset of client kits', () => {
  it('builds and checks the clients it has, and names the one it lacks', async () => {
    const deps = new Dependencies(testConfig(), testLogger(), { mysql: mysqlKit });
    try {
      expect(await deps.check('mysql')).toEqual({ status: 'healthy' });
      expect(() => deps.redis()).toThrow("the redis client is not in this bundle: list 'redis' in the function's needs");
      expect(() => deps.producer()).toThrow(/kafka client is not in this bundle/);
      expect(await deps.check('etcd')).toEqual({ status: 'unhealthy', error: expect.stringContaining('etcd client is not in this bundle') });
    } finally {
      await deps.close();
    }
  });
});
