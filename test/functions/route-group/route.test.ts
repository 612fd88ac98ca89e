/**
 * RouteGroupMessage end to end on the real servers: route-group publishes, fanout-group
 * stores once in the group log and pushes to real gateway servers, the admin API makes
 * the group. A 3-member group with one member online on two devices: those devices get
 * the message, the sender's sending device does not, the offline member has exactly one
 * unread entry that a catch-up range read returns once, and gets one OFFLINE_PUSH task.
 */
import { GroupLog } from '../../../shared/storage/group-log';
import { Content } from '../../../shared/gen/im/events/v1/events';
import { eventually } from '../../support/env';
import type { TestGateway } from '../../support/gateway-server';
import { msgId, startGroupRig, type GroupRig } from '../fanout-group/rig';

describe('route-group + fanout-group: a small group', () => {
  let rig: GroupRig;
  let gw1: TestGateway;
  let gw2: TestGateway;
  let groupId: string;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    rig = await startGroupRig();
    [gw1, gw2] = (await rig.gateways(2)) as [TestGateway, TestGateway];
    groupId = rig.id('trio');
    [alice, bob, carol] = [rig.id('alice'), rig.id('bob'), rig.id('carol')];
    const created = await rig.adminCall('POST', '/admin/v1/groups', {
      group_id: groupId,
      creator_id: alice,
      name: 'trio',
      members: [bob, carol],
    });
    expect(created.status).toBe(201);
    expect(created.body['member_count']).toBe(3);
    // Bob on two devices behind two gateways; Alice sends from her phone and also has a tablet.
    await rig.register([
      { userId: bob, deviceId: 'b-phone', gateway: gw1 },
      { userId: bob, deviceId: 'b-laptop', gateway: gw2 },
      { userId: alice, deviceId: 'a-phone', gateway: gw1 },
      { userId: alice, deviceId: 'a-tablet', gateway: gw2 },
    ]);
  });

  afterAll(() => rig?.stop());

  it('reaches the online member on both devices and the sender on her other device; stores once', async () => {
    const id = msgId();
    const res = await rig.send({
      msgId: id,
      senderId: alice,
      groupId,
      content: 'hi all',
      metadata: { sender_device_id: 'a-phone', content_type: 'text/plain' },
    });
    expect(res).toMatchObject({ success: true, status: 'published', memberCount: 3, errorMessage: '' });
    expect(res.sequenceNumber).toBeGreaterThan(0);

    const all = () => [...gw1.pushesOf(id), ...gw2.pushesOf(id)];
    await eventually(() => all().length >= 3, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const got = all()
      .map((p) => `${p.userId}/${p.deviceId}`)
      .sort();
    expect(got).toEqual([`${alice}/a-tablet`, `${bob}/b-laptop`, `${bob}/b-phone`].sort());
    const envelope = gw1.pushesOf(id)[0]?.message;
    expect(envelope).toMatchObject({
      msgId: id,
      senderId: alice,
      conversationType: 'group',
      conversationId: groupId,
      sequenceNumber: res.sequenceNumber,
      content: 'hi all',
      recipientId: '',
    });
    expect(gw1.pushesOf(id).every((p) => p.method === 'PushBatch')).toBe(true);

    const rows = await rig.logRows(groupId);
    expect(rows).toEqual([{ msgId: id, sequenceNumber: res.sequenceNumber }]);

    // Carol is offline: one unread entry above her read position, returned once by catch-up.
    const log = new GroupLog(rig.mysql);
    const position = await rig.readPosition(carol, groupId);
    expect(position).toBe(0);
    expect(await log.countAfter(groupId, position ?? 0)).toBe(1);
    const page = await log.range(groupId, position ?? 0, 50);
    expect(page.map((e) => e.msgId)).toEqual([id]);
    const stored = Content.decode(page[0]?.content ?? Buffer.alloc(0));
    expect(stored.body).toEqual({ $case: 'text', value: 'hi all' });
    expect(await log.range(groupId, page[0]?.sequenceNumber ?? 0, 50)).toEqual([]);

    // One OFFLINE_PUSH task, for Carol only (never the sender, never an online member).
    const tasks = await eventually(async () => {
      const t = (await rig.pushTasks()).filter((x) => x.msgIds.includes(id));
      return t.length > 0 ? t : undefined;
    }, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await rig.pushTasks()).filter((x) => x.msgIds.includes(id)).map((t) => t.userId)).toEqual([carol]);
    expect(tasks[0]).toMatchObject({ taskType: 'OFFLINE_PUSH', conversationType: 'group', conversationId: groupId, messageCount: 1 });
  });

  it('a retried msg_id gets the first answer and nothing is stored or pushed twice', async () => {
    const id = msgId();
    const first = await rig.send({ msgId: id, senderId: alice, groupId, content: 'once' });
    const again = await rig.send({ msgId: id, senderId: alice, groupId, content: 'once', timestamp: Date.now() + 5 });
    expect(again).toEqual(first);
    const dup = await rig.sendError({ msgId: id, senderId: alice, groupId, content: 'something else' });
    expect(dup.code).toBe('DUPLICATE_MESSAGE');
    await eventually(() => gw1.pushesOf(id).length >= 1, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await rig.logRows(groupId)).filter((r) => r.msgId === id)).toHaveLength(1);
    expect(gw1.pushesOf(id).filter((p) => p.userId === bob)).toHaveLength(1);
  });

  it('sequences increase per group, and a member who joins later starts with nothing unread', async () => {
    const a = await rig.send({ senderId: bob, groupId, content: 'one' });
    const b = await rig.send({ senderId: carol, groupId, content: 'two' });
    expect(b.sequenceNumber).toBeGreaterThan(a.sequenceNumber);
    await eventually(async () => (await rig.logRows(groupId)).some((r) => r.sequenceNumber === b.sequenceNumber), 20_000);

    const dave = rig.id('dave');
    const added = await rig.adminCall('POST', `/admin/v1/groups/${groupId}/members`, { user_ids: [dave] });
    expect(added).toEqual({ status: 200, body: { group_id: groupId, added: [dave], member_count: 4 } });
    const position = await rig.readPosition(dave, groupId);
    expect(position).toBe(b.sequenceNumber);
    expect(await new GroupLog(rig.mysql).countAfter(groupId, position ?? 0)).toBe(0);
  });
});
