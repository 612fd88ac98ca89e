/**
 * Row mapping and push-task building of persist-offline (pure).
 */
import fc from 'fast-check';
import { Content, type OfflineMessage } from '../../../shared/gen/im/events/v1/events';
import { buildPushTasks } from '../../../functions/persist-offline/push-tasks';
import { toOfflineRow } from '../../../functions/persist-offline/rows';

const TTL = 7 * 24 * 3600 * 1000;

const message = (over: Partial<OfflineMessage> = {}): OfflineMessage => ({
  msgId: 'm-1',
  senderId: 'alice',
  recipientId: 'bob',
  conversationType: 'private',
  conversationId: 'p:alice:bob',
  sequenceNumber: 7,
  content: { body: { $case: 'text', value: 'hello' } },
  timestamp: 1_700_000_000_000,
  serverTime: 1_700_000_000_500,
  metadata: {},
  deliveredDevices: [],
  ...over,
});

describe('toOfflineRow', () => {
  it('maps an event to its inbox row, content as the Content protobuf', () => {
    const row = toOfflineRow(message({ metadata: { k: 'v' } }), TTL, 1);
    expect(row).toEqual({
      userId: 'bob',
      msgId: 'm-1',
      senderId: 'alice',
      conversationType: 'private',
      conversationId: 'p:alice:bob',
      sequenceNumber: 7,
      content: expect.any(Buffer),
      metadata: '{"k":"v"}',
      clientTimestamp: 1_700_000_000_000,
      createdAt: 1_700_000_000_500,
      expiresAt: 1_700_000_000_500 + TTL,
    });
    expect(Content.decode(row.content)).toEqual({ body: { $case: 'text', value: 'hello' } });
  });

  it('falls back to the record time when server_time is missing, and stores no empty metadata', () => {
    const row = toOfflineRow(message({ serverTime: 0 }), TTL, 42);
    expect(row.createdAt).toBe(42);
    expect(row.expiresAt).toBe(42 + TTL);
    expect(row.metadata).toBeNull();
  });

  it.each<[string, Partial<OfflineMessage>]>([
    ['a recipient longer than 128 characters', { recipientId: 'u'.repeat(129) }],
    ['a msg_id longer than 128 characters', { msgId: 'm'.repeat(129) }],
    ['a conversation id longer than 300 characters', { conversationId: 'c'.repeat(301) }],
    ['a blank recipient', { recipientId: '  ' }],
    ['an unknown conversation type', { conversationType: 'channel' }],
    ['no content', { content: undefined }],
    ['an empty content', { content: { body: undefined } }],
    ['a negative sequence', { sequenceNumber: -1 }],
  ])('refuses %s as INVALID_PAYLOAD', (_, over) => {
    expect(() => toOfflineRow(message(over), TTL, 1)).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }));
  });

  it('counts characters, not UTF-16 units: 128 emoji fit', () => {
    expect(toOfflineRow(message({ recipientId: '😀'.repeat(128) }), TTL, 1).userId).toHaveLength(256);
  });
});

describe('buildPushTasks', () => {
  it('makes one task per recipient covering its messages, skipping those already delivered', () => {
    const tasks = buildPushTasks(
      [
        message({ msgId: 'a', recipientId: 'bob' }),
        message({ msgId: 'b', recipientId: 'carol', senderId: 'dave', conversationId: 'p:carol:dave' }),
        message({ msgId: 'c', recipientId: 'bob', senderId: 'erin', conversationType: 'group', conversationId: 'g1' }),
        message({ msgId: 'd', recipientId: 'frank', deliveredDevices: ['phone'] }),
        message({ msgId: 'c', recipientId: 'bob', senderId: 'erin', conversationType: 'group', conversationId: 'g1' }),
      ],
      5,
    );
    expect(tasks).toEqual([
      {
        taskType: 'OFFLINE_PUSH',
        userId: 'bob',
        conversationType: 'group',
        conversationId: 'g1',
        msgIds: ['a', 'c'],
        messageCount: 2,
        lastSenderId: 'erin',
        createdAt: 5,
      },
      {
        taskType: 'OFFLINE_PUSH',
        userId: 'carol',
        conversationType: 'private',
        conversationId: 'p:carol:dave',
        msgIds: ['b'],
        messageCount: 1,
        lastSenderId: 'dave',
        createdAt: 5,
      },
    ]);
  });

  it('covers every undelivered message exactly once per recipient', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ r: fc.constantFrom('u1', 'u2', 'u3'), m: fc.constantFrom('a', 'b', 'c', 'd'), d: fc.boolean() })),
        (xs) => {
          const tasks = buildPushTasks(
            xs.map((x) => message({ recipientId: x.r, msgId: x.m, deliveredDevices: x.d ? ['x'] : [] })),
            0,
          );
          for (const r of ['u1', 'u2', 'u3']) {
            const want = [...new Set(xs.filter((x) => x.r === r && !x.d).map((x) => x.m))];
            const got = tasks.filter((t) => t.userId === r);
            expect(got.length).toBe(want.length > 0 ? 1 : 0);
            if (want.length > 0) expect([...(got[0]?.msgIds ?? [])].sort()).toEqual(want.sort());
          }
        },
      ),
    );
  });
});
