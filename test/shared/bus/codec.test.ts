/**
 * encodeEvent shares one protobuf writer between calls: each result must be its own
 * copy, and a throw in the middle of an encode must not leak into the next one.
 */
import { decodeEvent, encodeEvent, SCHEMA_HEADER } from '../../../shared/bus/codec';
import type { OfflinePushTask } from '../../../shared/gen/im/events/v1/events';

const task = (userId: string, msgIds: string[]): OfflinePushTask => ({
  taskType: 'OFFLINE_PUSH',
  userId,
  conversationType: 'private',
  conversationId: `p:a:${userId}`,
  msgIds,
  messageCount: msgIds.length,
  lastSenderId: 'a',
  createdAt: 1_700_000_000_000,
});

const decode = (b: Buffer) =>
  decodeEvent('im.events.v1.OfflinePushTask', b, { [SCHEMA_HEADER]: 'im.events.v1.OfflinePushTask' });

describe('encodeEvent', () => {
  it('returns independent buffers from consecutive encodes', () => {
    const a = task('u1', ['m1', 'm2']);
    const b = task('u2-with-a-longer-id', Array.from({ length: 50 }, (_, i) => `m${i}`));
    const ea = encodeEvent('im.events.v1.OfflinePushTask', a);
    const copy = Buffer.from(ea);
    const eb = encodeEvent('im.events.v1.OfflinePushTask', b);
    expect(ea).toEqual(copy);
    expect(decode(ea)).toEqual(a);
    expect(decode(eb)).toEqual(b);
  });

  it('starts clean after an encode that threw midway', () => {
    // message_count is an int32, written after user_id and msg_ids.
    const bad = { ...task('u3', ['m1']), messageCount: 2 ** 40 };
    expect(() => encodeEvent('im.events.v1.OfflinePushTask', bad)).toThrow();
    const good = task('u4', ['m9']);
    expect(decode(encodeEvent('im.events.v1.OfflinePushTask', good))).toEqual(good);
  });
});
