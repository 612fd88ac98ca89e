/**
 * Who may send to a group, on the real servers: non-members and unknown groups are
 * refused with their codes and nothing is published; a removal made through the admin
 * API (→ membership_change → the router's cache) applies to the removed member's next
 * message, and the next fanout no longer reaches them. Bad input changes nothing.
 */
import { JwtAuth } from '../../../shared/auth/jwt';
import { testConfig } from '../../support/env';
import { eventually } from '../../support/env';
import type { TestGateway } from '../../support/gateway-server';
import { msgId, startGroupRig, type GroupRig } from '../fanout-group/rig';

type FeedStats = { ready: boolean; applied: number };

describe('route-group membership', () => {
  let rig: GroupRig;
  let gw: TestGateway;
  let groupId: string;
  let alice: string;
  let bob: string;

  const feed = () => (rig.host.stats()['workers'] as Record<string, FeedStats>)['membership-feed'] as FeedStats;
  const published = async () =>
    (await rig.admin.fetchTopicOffsets(rig.topics.groupMsg)).reduce((n, p) => n + Number(p.high), 0);

  beforeAll(async () => {
    rig = await startGroupRig();
    [gw] = (await rig.gateways(1)) as [TestGateway];
    groupId = rig.id('club');
    [alice, bob] = [rig.id('alice'), rig.id('bob')];
    await eventually(() => feed().ready, 30_000);
    const created = await rig.adminCall('POST', '/admin/v1/groups', { group_id: groupId, creator_id: alice, members: [bob] });
    expect(created.status).toBe(201);
    await rig.register([{ userId: bob, deviceId: 'b-phone', gateway: gw }]);
  });

  afterAll(() => rig?.stop());

  it('refuses a non-member and an unknown group, publishing nothing', async () => {
    const before = await published();
    const eve = rig.id('eve');
    expect((await rig.sendError({ senderId: eve, groupId })).code).toBe('NOT_GROUP_MEMBER');
    expect((await rig.sendError({ senderId: alice, groupId: rig.id('nope') })).code).toBe('INVALID_RECIPIENT');
    // Refused twice with the same msg_id: the failed first attempt left no claim behind.
    const id = msgId();
    expect((await rig.sendError({ msgId: id, senderId: eve, groupId })).code).toBe('NOT_GROUP_MEMBER');
    expect((await rig.sendError({ msgId: id, senderId: eve, groupId })).code).toBe('NOT_GROUP_MEMBER');
    expect(await published()).toBe(before);
  });

  it.each([
    ['oversize content', { content: 'x'.repeat(10_241) }, 'MESSAGE_TOO_LARGE'],
    ['empty content', { content: '' }, 'INVALID_ARGUMENT'],
    ['empty group id', { groupId: '' }, 'INVALID_ARGUMENT'],
    ['malformed group id', { groupId: 'a/b' }, 'INVALID_ARGUMENT'],
    ['malformed msg id', { msgId: 'has space' }, 'INVALID_ARGUMENT'],
    ['empty sender', { senderId: '' }, 'INVALID_ARGUMENT'],
    ['too much metadata', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, 'INVALID_ARGUMENT'],
  ])('bad input is refused and changes nothing: %s', async (_name, patch, code) => {
    const before = await published();
    const err = await rig.sendError({ senderId: alice, groupId, ...patch });
    expect(err.code).toBe(code);
    expect(await published()).toBe(before);
  });

  it('a removal through the admin API applies to the next message', async () => {
    // Bob's membership is cached as "member" by a successful send first.
    const ok = await rig.send({ senderId: bob, groupId, content: 'still here' });
    expect(ok.success).toBe(true);
    const applied = feed().applied;

    const removed = await rig.adminCall('DELETE', `/admin/v1/groups/${groupId}/members/${bob}`);
    expect(removed).toEqual({ status: 200, body: { group_id: groupId, user_id: bob, removed: true, member_count: 1 } });
    await eventually(() => feed().applied > applied, 15_000);

    expect((await rig.sendError({ senderId: bob, groupId, content: 'let me in' })).code).toBe('NOT_GROUP_MEMBER');
    const id = msgId();
    const res = await rig.send({ msgId: id, senderId: alice, groupId, content: 'bob left' });
    expect(res.memberCount).toBe(1);
    await eventually(async () => (await rig.logRows(groupId)).some((r) => r.msgId === id), 20_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.pushesOf(id)).toEqual([]);

    // Idempotent: removing again changes nothing.
    const again = await rig.adminCall('DELETE', `/admin/v1/groups/${groupId}/members/${bob}`);
    expect(again.body).toMatchObject({ removed: false, member_count: 1 });

    // Re-joining: a member again, reading from the latest sequence.
    const back = await rig.adminCall('POST', `/admin/v1/groups/${groupId}/members`, { user_ids: [bob] });
    expect(back.body).toMatchObject({ added: [bob], member_count: 2 });
    expect(await rig.readPosition(bob, groupId)).toBe(res.sequenceNumber);
    await eventually(async () => (await rig.send({ senderId: bob, groupId, content: 'back' }).catch(() => undefined))?.success, 15_000, 200);
  });

  it('the admin API needs an admin token, validates bodies and is idempotent', async () => {
    const base = `http://127.0.0.1:${rig.host.httpPort}`;
    const auth = new JwtAuth(testConfig().auth);
    const userToken = await auth.sign(alice);
    const asUser = await fetch(`${base}/admin/v1/groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group_id: rig.id('x'), creator_id: alice }),
    });
    expect(asUser.status).toBe(403);
    const anonymous = await fetch(`${base}/admin/v1/groups/${groupId}`);
    expect(anonymous.status).toBe(401);

    expect((await rig.adminCall('POST', '/admin/v1/groups', { group_id: 'bad id', creator_id: alice })).status).toBe(400);
    expect((await rig.adminCall('POST', '/admin/v1/groups', { group_id: rig.id('y'), creator_id: alice, extra: 1 })).status).toBe(400);
    expect((await rig.adminCall('POST', `/admin/v1/groups/${groupId}/members`, { user_ids: [] })).status).toBe(400);
    const unknown = await rig.adminCall('POST', `/admin/v1/groups/${rig.id('ghost')}/members`, { user_ids: [bob] });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });

    const again = await rig.adminCall('POST', '/admin/v1/groups', { group_id: groupId, creator_id: alice, members: [bob] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ group_id: groupId, created: false, member_count: 2 });
    const info = await rig.adminCall('GET', `/admin/v1/groups/${groupId}`);
    expect(info.body).toMatchObject({ group_id: groupId, creator_id: alice, member_count: 2 });
  });
});
