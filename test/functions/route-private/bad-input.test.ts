/**
 * Bad input to RoutePrivateMessage gets its code and changes nothing: no Redis key
 * under the run's prefix, no record on the topic, no reservation row, no push.
 */
import type { RoutePrivateMessageRequest } from '../../../shared/gen/im/v1/im';
import { msgId, startRig, type Rig } from './rig';

describe('route-private bad input', () => {
  let rig: Rig;
  let alice: string;
  let bob: string;
  let gwPushes: () => number;
  beforeAll(async () => {
    rig = await startRig();
    alice = await rig.user('alice');
    bob = await rig.user('bob');
    const { gw } = await rig.gateway(bob, ['phone']);
    gwPushes = () => gw.pushes.length;
  });
  afterAll(async () => {
    await rig?.stop();
  });

  const big = (bytes: number) => 'x'.repeat(bytes);
  const cases: [string, () => Partial<RoutePrivateMessageRequest>, string][] = [
    ['empty msg_id', () => ({ msgId: '' }), 'INVALID_ARGUMENT'],
    ['msg_id with a space', () => ({ msgId: 'a b' }), 'INVALID_ARGUMENT'],
    ['msg_id with a slash', () => ({ msgId: 'a/b' }), 'INVALID_ARGUMENT'],
    ['msg_id of 129 characters', () => ({ msgId: 'm'.repeat(129) }), 'INVALID_ARGUMENT'],
    ['empty sender_id', () => ({ senderId: '' }), 'INVALID_ARGUMENT'],
    ['sender_id with a space', () => ({ senderId: 'al ice' }), 'INVALID_ARGUMENT'],
    ['sender_id of 129 characters', () => ({ senderId: 's'.repeat(129) }), 'INVALID_ARGUMENT'],
    ['empty recipient_id', () => ({ recipientId: '' }), 'INVALID_ARGUMENT'],
    ['recipient_id with CJK', () => ({ recipientId: '用户' }), 'INVALID_ARGUMENT'],
    ['unknown recipient', () => ({ recipientId: `${rig.run}-nobody` }), 'INVALID_RECIPIENT'],
    ['empty content', () => ({ content: '' }), 'INVALID_ARGUMENT'],
    ['content of 10,241 bytes', () => ({ content: big(10_241) }), 'MESSAGE_TOO_LARGE'],
    ['3,500 CJK characters (10,500 bytes)', () => ({ content: '中'.repeat(3500) }), 'MESSAGE_TOO_LARGE'],
    ['negative timestamp', () => ({ timestamp: -1 }), 'INVALID_ARGUMENT'],
    [
      '17 metadata entries',
      () => ({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }),
      'INVALID_ARGUMENT',
    ],
    ['metadata key with a space', () => ({ metadata: { 'a b': 'v' } }), 'INVALID_ARGUMENT'],
    ['metadata value over 512 bytes', () => ({ metadata: { k: big(513) } }), 'INVALID_ARGUMENT'],
  ];

  it.each(cases)('%s → %s, nothing changed', async (_name, change, code) => {
    const [keys, records, rows, pushes] = [await rig.redisKeys(), await rig.topicCount(), await rig.reservationRows(), gwPushes()];

    const err = await rig.sendError({ msgId: msgId(), senderId: alice, recipientId: bob, content: 'hi', ...change() });

    expect(err.code).toBe(code);
    expect(await rig.redisKeys()).toEqual(keys);
    expect(await rig.topicCount()).toBe(records);
    expect(await rig.reservationRows()).toBe(rows);
    expect(gwPushes()).toBe(pushes);
  });

  it('content of exactly MAX_MESSAGE_SIZE bytes is accepted', async () => {
    const res = await rig.send({ senderId: alice, recipientId: bob, content: big(10_240) });
    expect(res.success).toBe(true);
  });

  it('names the offending field in the message', async () => {
    const err = await rig.sendError({ msgId: msgId(), senderId: alice, recipientId: bob, content: big(20_000) });
    expect(err.message).toBe('content is 20000 bytes; the limit is 10240');
    expect((await rig.sendError({ msgId: msgId(), senderId: '', recipientId: bob })).message).toBe('sender_id is empty');
  });
});
