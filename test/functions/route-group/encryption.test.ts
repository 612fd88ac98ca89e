/**
 * Group messages with ENCRYPTION_ENABLED on the real servers: route-group seals the
 * content for storage (bound to the msg_id), the group log holds only ciphertext,
 * fanout-group opens it and devices get the text, and an offline member reads it in
 * plaintext from the inbox API.
 */
import { JwtAuth } from '../../../shared/auth/jwt';
import { Content } from '../../../shared/gen/im/events/v1/events';
import { GroupLog } from '../../../shared/storage/group-log';
import { eventually } from '../../support/env';
import type { TestGateway } from '../../support/gateway-server';
import { msgId, startGroupRig, type GroupRig } from '../fanout-group/rig';

describe('route-group + fanout-group with envelope encryption', () => {
  let rig: GroupRig;
  let gw: TestGateway;
  let groupId: string;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    rig = await startGroupRig({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: Buffer.alloc(32, 42).toString('base64') });
    [gw] = (await rig.gateways(1)) as [TestGateway];
    groupId = rig.id('vault');
    [alice, bob, carol] = [rig.id('alice'), rig.id('bob'), rig.id('carol')];
    const created = await rig.adminCall('POST', '/admin/v1/groups', { group_id: groupId, creator_id: alice, members: [bob, carol] });
    expect(created.status).toBe(201);
    await rig.register([{ userId: bob, deviceId: 'b-phone', gateway: gw }]);
  });

  afterAll(() => rig?.stop());

  it('stores ciphertext only, delivers and serves the text', async () => {
    const id = msgId();
    const text = 'the vault code is 4711';
    const res = await rig.send({ msgId: id, senderId: alice, groupId, content: text });
    expect(res).toMatchObject({ success: true, status: 'published' });

    await eventually(() => gw.pushesOf(id).length > 0, 20_000);
    expect(gw.pushesOf(id)[0]?.message).toMatchObject({ msgId: id, content: text, sequenceNumber: res.sequenceNumber });

    const [entry] = await new GroupLog(rig.mysql).range(groupId, 0, 10);
    expect(entry?.msgId).toBe(id);
    const stored = Content.decode(entry?.content ?? Buffer.alloc(0));
    expect(stored.body?.$case).toBe('sealed');
    expect(Buffer.from(entry?.content ?? []).includes(Buffer.from('vault code'))).toBe(false);

    const token = await new JwtAuth(rig.host.deps.config.auth).sign(carol);
    const inbox = await fetch(`http://127.0.0.1:${rig.host.httpPort}/api/v1/offline?limit=10`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(inbox.status).toBe(200);
    const body = (await inbox.json()) as { messages: { msg_id: string; content: string }[] };
    expect(body.messages.filter((m) => m.msg_id === id).map((m) => m.content)).toEqual([text]);
  });
});
