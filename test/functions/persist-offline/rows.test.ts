/**
 * Row mapping and push-task building of persist-offline (pure).
 */
import fc from 'fast-check';
import { Content, OfflineMessage } from '../../../shared/gen/im/events/v1/events';
import { buildPushTasks } from '../../../functions/persist-offline/push-tasks';
import { toOfflineRow } from '../../../functions/persist-offline/rows';
import { singleFieldBytes } from '../../../functions/persist-offline/wire';

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
    expect(() => toOfflineRow(message({ recipientId: '😀'.repeat(129) }), TTL, 1)).toThrow(/longer than 128/);
  });
});

const encode = (m: OfflineMessage): Buffer => Buffer.from(OfflineMessage.encode(m).finish());

const id = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '');

const arbitraryMessage = fc
  .record({
    msgId: id,
    senderId: id,
    recipientId: id,
    conversationType: fc.constantFrom('private', 'group'),
    conversationId: id,
    sequenceNumber: fc.maxSafeNat(),
    content: fc.oneof(
      fc.record({ body: fc.record({ $case: fc.constant('text' as const), value: fc.string({ unit: 'binary' }) }) }),
      fc.record({
        body: fc.record({
          $case: fc.constant('sealed' as const),
          value: fc.record({
            alg: fc.constant('AES-256-GCM'),
            keyId: fc.string(),
            keyVersion: fc.nat(),
            wrappedKey: fc.uint8Array().map((a) => Buffer.from(a)),
            nonce: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
            ciphertext: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          }),
        }),
      }),
    ),
    timestamp: fc.maxSafeNat(),
    serverTime: fc.maxSafeNat(),
    metadata: fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    deliveredDevices: fc.array(fc.string(), { maxLength: 3 }),
  })
  .map((m) => m as OfflineMessage);

describe('content straight from the record (singleFieldBytes)', () => {
  it('is the Content protobuf the event carries, byte for byte', () => {
    fc.assert(
      fc.property(arbitraryMessage, (m) => {
        const raw = singleFieldBytes(encode(m), 7);
        expect(raw).toBeDefined();
        expect(Buffer.compare(raw as Buffer, Buffer.from(Content.encode(m.content as Content).finish()))).toBe(0);
        const decoded = OfflineMessage.decode(encode(m));
        expect(toOfflineRow(decoded, TTL, 1, encode(m))).toEqual(toOfflineRow(decoded, TTL, 1));
      }),
    );
  });

  it('gives up (the caller re-encodes) on a repeated, absent or malformed field', () => {
    const one = encode(message());
    const field = singleFieldBytes(one, 7) as Buffer;
    // A second content field: a parser merges the two, a slice would keep only one.
    const twice = Buffer.concat([one, Buffer.from([0x3a, field.length]), field]);
    expect(singleFieldBytes(twice, 7)).toBeUndefined();
    const merged = OfflineMessage.decode(twice);
    expect(toOfflineRow(merged, TTL, 1, twice)).toEqual(toOfflineRow(merged, TTL, 1));
    expect(singleFieldBytes(encode(message({ content: undefined })), 7)).toBeUndefined();
    expect(singleFieldBytes(one.subarray(0, one.length - 1), 7)).toBeUndefined();
    expect(singleFieldBytes(Buffer.from([0x0b, 0x0c]), 7)).toBeUndefined(); // a group
    expect(singleFieldBytes(Buffer.from([0xff, 0xff]), 7)).toBeUndefined();
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (a) => void singleFieldBytes(Buffer.from(a), 7)));
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
