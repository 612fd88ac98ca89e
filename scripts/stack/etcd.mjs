// etcd 3.4 for scripts/stack.mjs: single member on loopback (client 2379, peer 2380).
import { fatal, parseAddr, paths, target, which, withTimeout } from './util.mjs';

const P = paths('etcd');
const ENDPOINTS = (process.env.ETCD_ENDPOINTS || 'localhost:2379').split(',').map((s) => s.trim()).filter(Boolean);
const PEER_PORT = 2380;

export default {
  name: 'etcd',
  marker: 'etcd',
  log: P.log,
  target: () => {
    const all = ENDPOINTS.map((e) => target('etcd', parseAddr(e, 2379).host, parseAddr(e, 2379).port));
    const t = all.find((x) => !x.local) || all[0]; // any remote entry makes the cluster external
    const tls = ENDPOINTS.some((e) => /^https:/i.test(e));
    t.hosts = t.local ? [`http://${t.addr}`] : ENDPOINTS.map((e) => (/^https?:\/\//i.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`));
    return t;
  },
  bins: () => ({ etcd: 'etcd-server', etcdctl: 'etcd-client' }),
  async prepare() {},
  command: (t) => {
    const url = (port) => `http://${t.bind.includes(':') ? `[${t.bind}]` : t.bind}:${port}`;
    return [which('etcd'), ['--name', 'im-local', '--data-dir', P.data,
      '--listen-client-urls', url(t.port), '--advertise-client-urls', url(t.port),
      '--listen-peer-urls', url(PEER_PORT), '--initial-advertise-peer-urls', url(PEER_PORT),
      '--initial-cluster', `im-local=${url(PEER_PORT)}`, '--auto-compaction-retention', '1h', '--logger', 'zap']];
  },

  /** A real put + get through the gRPC API. */
  async ping(t) {
    const { Etcd3 } = (await import('etcd3')).default;
    const auth = process.env.ETCD_USERNAME ? { username: process.env.ETCD_USERNAME, password: process.env.ETCD_PASSWORD || '' } : undefined;
    const client = new Etcd3({ hosts: t.hosts, dialTimeout: 2000, auth });
    try {
      const v = String(Date.now());
      await withTimeout(client.put('/im-functions/stack/ping').value(v), 3000, 'etcd put');
      if ((await withTimeout(client.get('/im-functions/stack/ping').string(), 3000, 'etcd get')) !== v) throw new Error('etcd get returned a different value');
    } catch (e) {
      throw /permission denied|authentication failed|invalid auth/i.test(e.message) ? fatal(e.message) : e;
    } finally { client.close(); }
  },
  async setup() {},
  async verify() {},
};
