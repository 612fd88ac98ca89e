/**
 * msg_id idempotency of route-private against the real servers: a retry (sequential
 * or 20 at once) gets the first answer — one sequence number, one push, one Kafka
 * record — and a used msg_id with another message is DUPLICATE_MESSAGE.
 */
import { msgId, startRig, type Rig } from './rig';

describe('route-private idempotency', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('a retry of the same msg_id gets the first answer and delivers nothing again', async () => {
    const alice = await rig.user('alice');
    const bob = await rig.user('bob');
    const { gw } = await rig.gateway(bob, ['phone']);
    const id = msgId();
    const before = await rig.topicCount();

    const first = await rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'once' });
    const again = await rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'once', timestamp: 1 });

    expect(again).toEqual(first);
    expect(gw.pushesOf(id)).toHaveLength(1);
    expect(await rig.topicCount()).toBe(before + 1);
  });

  it('20 concurrent copies of one msg_id: one sequence number, one push, one Kafka record', async () => {
    const alice = await rig.user('alice2');
    const bob = await rig.user('bob2');
    const { gw } = await rig.gateway(bob, ['phone']);
    // A slow gateway keeps the first request in flight while the others arrive.
    gw.behaviour.delayMs = 150;
    const id = msgId();
    const before = await rig.topicCount();

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'together' })),
    );

    expect(new Set(answers.map((a) => a.sequenceNumber)).size).toBe(1);
    expect(answers.every((a) => a.success && a.status === 'delivered')).toBe(true);
    expect(gw.pushesOf(id)).toHaveLength(1);
    expect(await rig.topicCount()).toBe(before + 1);
    // The conversation's counter moved once: the next message takes the next number.
    const next = await rig.send({ senderId: bob, recipientId: alice });
    expect(next.sequenceNumber).toBe((answers[0]?.sequenceNumber as number) + 1);
  });

  it('20 concurrent copies to an offline recipient: one Kafka record', async () => {
    const alice = await rig.user('alice3');
    const bob = await rig.user('bob3');
    const id = msgId();
    const before = await rig.topicCount();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'later' })),
    );
    expect(new Set(answers.map((a) => `${a.sequenceNumber}/${a.status}`))).toEqual(new Set([`${answers[0]?.sequenceNumber}/offline`]));
    expect(await rig.topicCount()).toBe(before + 1);
  });

  it('a used msg_id with different content, sender or recipient: DUPLICATE_MESSAGE, nothing delivered', async () => {
    const alice = await rig.user('alice4');
    const bob = await rig.user('bob4');
    const carol = await rig.user('carol4');
    const { gw } = await rig.gateway(bob, ['phone']);
    const id = msgId();
    await rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'original' });
    const topicBefore = await rig.topicCount();

    for (const change of [{ content: 'edited' }, { senderId: carol }, { recipientId: carol }]) {
      const err = await rig.sendError({ msgId: id, senderId: alice, recipientId: bob, content: 'original', ...change });
      expect(err.code).toBe('DUPLICATE_MESSAGE');
    }
    expect(gw.pushesOf(id)).toHaveLength(1);
    expect(await rig.topicCount()).toBe(topicBefore);
  });
});
