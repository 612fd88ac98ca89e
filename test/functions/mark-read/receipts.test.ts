/**
 * Read receipts over real HTTP, MariaDB, Redis and Kafka: marking a message read on a
 * phone shows up in the sender's receipts and on `read_receipt_events` (read back with
 * a fresh consumer group), drops the unread count and sets the status to read; a repeat
 * changes nothing and publishes nothing; conversations are marked in one go; group
 * messages advance the read position.
 */
import type { Consumer } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { decodeEvent } from '../../../shared/bus/codec';
import type { ReadReceiptEvent } from '../../../shared/gen/im/events/v1/events';
import type { Host } from '../../../shared/runtime/host';
import { MessageStatusStore } from '../../../shared/storage/message-status';
import type { Pool } from '../../../shared/storage/mysql';
import { eventually, testConfig, uid } from '../../support/env';
import {
  ApiClient,
  conversation,
  createGroup,
  groupConv,
  insertGroupLog,
  insertInbox,
  privateConv,
  startMarkRead,
} from './support';

const TOPIC = testConfig().kafka.topics.readReceipts;

describe('read receipts', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;
  let consumer: Consumer;
  const events: ReadReceiptEvent[] = [];
  const keys: string[] = [];

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead());
    consumer = host.deps.kafka().consumer({ groupId: uid('receipts-test') });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        events.push(decodeEvent('im.events.v1.ReadReceiptEvent', message.value, message.headers));
        keys.push(message.key?.toString() ?? '');
      },
    });
  });
  afterAll(async () => {
    await consumer.disconnect();
    await host.stop();
  });

  const eventsFor = (msgId: string) => events.filter((e) => e.msgId === msgId);
  const unread = async (user: string) =>
    ((await api.as(user, 'getUnreadCount', 'GET', '/api/v1/messages/unread/count')).body as { count: number }).count;

  it('marks a message read on a phone: receipts, event keyed by the sender, unread count, status; a repeat changes nothing', async () => {
    const bob = uid('bob');
    const alice = uid('alice');
    const [m1, m2] = await insertInbox(pool, conversation(bob, alice, 2));
    expect(await unread(bob)).toBe(2);

    const readAt = Date.now() - 1000;
    const r = await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: m1, device_id: 'phone-1', read_at: readAt });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, first_read: true, read_at: readAt, conversation_type: 'private', conversation_id: privateConv(alice, bob) });

    const receipts = await api.as(alice, 'getReceipts', 'GET', `/api/v1/messages/receipts?msg_id=${m1}`);
    expect(receipts.body).toMatchObject({
      msg_id: m1,
      sender_id: alice,
      readers_count: 1,
      receipts: [{ reader_id: bob, device_id: 'phone-1', read_at: readAt }],
    });
    await eventually(() => eventsFor(m1 as string).length === 1, 30_000);
    expect(eventsFor(m1 as string)[0]).toMatchObject({ readerId: bob, senderId: alice, deviceId: 'phone-1', readAt, sequenceNumber: 1, conversationType: 'private' });
    expect(keys[events.findIndex((e) => e.msgId === m1)]).toBe(alice);
    expect(await unread(bob)).toBe(1);
    const status = await new MessageStatusStore(host.deps.redis(), 60_000).get(m1 as string);
    expect(status).toMatchObject({ status: 'read', readAt });

    const before = await rowsOf(pool, m1 as string);
    const again = await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: m1, device_id: 'phone-1' });
    expect(again.body).toMatchObject({ first_read: false, read_at: readAt });
    expect(await rowsOf(pool, m1 as string)).toEqual(before);
    expect(await unread(bob)).toBe(1);

    // A second device adds its receipt; the first read stands; still no second event.
    await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: m1, device_id: 'laptop' });
    const both = await api.as(bob, 'getReceipts', 'GET', `/api/v1/messages/receipts?msg_id=${m1}`);
    expect((both.body as { receipts: { device_id: string }[] }).receipts.map((x) => x.device_id).sort()).toEqual(['laptop', 'phone-1']);
    // Marking m2 proves the consumer is past m1's repeats before counting them.
    await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: m2 });
    await eventually(() => eventsFor(m2 as string).length === 1, 30_000);
    expect(eventsFor(m1 as string)).toHaveLength(1);
  });

  it('refuses a read_at in the future and an unknown message, changing nothing', async () => {
    const bob = uid('bob');
    const [m] = await insertInbox(pool, conversation(bob, uid('alice'), 1));
    const future = await api.call('POST', '/api/v1/messages/read', { token: await api.token(bob), body: { msg_id: m, read_at: Date.now() + 3_600_000 } });
    expect(future.status).toBe(400);
    expect(future.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const unknown = await api.call('POST', '/api/v1/messages/read', { token: await api.token(bob), body: { msg_id: uid('nope') } });
    expect(unknown.status).toBe(404);
    expect(await unread(bob)).toBe(1);
  });

  it('marks a private conversation read up to a sequence in one go, with receipts and one event', async () => {
    const bob = uid('bob');
    const alice = uid('alice');
    const ids = await insertInbox(pool, conversation(bob, alice, 10));
    const conv = privateConv(bob, alice);
    const r = await api.as(bob, 'markConversationRead', 'POST', '/api/v1/conversations/read', {
      conversation_id: conv,
      up_to_sequence: 6,
      device_id: 'phone',
    });
    expect(r.body).toEqual({ success: true, conversation_id: conv, conversation_type: 'private', marked_count: 6, read_seq: 6 });
    expect(await unread(bob)).toBe(4);
    const receipt = await api.as(alice, 'getReceipts', 'GET', `/api/v1/messages/receipts?msg_id=${ids[3]}`);
    expect((receipt.body as { receipts: unknown[] }).receipts).toEqual([expect.objectContaining({ reader_id: bob, device_id: 'phone' })]);
    await eventually(() => eventsFor(ids[5] as string).length === 1, 30_000);
    expect(eventsFor(ids[5] as string)[0]).toMatchObject({ sequenceNumber: 6, senderId: alice, readerId: bob });

    const rest = await api.as(bob, 'markConversationRead', 'POST', '/api/v1/conversations/read', { conversation_id: conv });
    expect(rest.body).toMatchObject({ marked_count: 4, read_seq: 10 });
    const none = await api.as(bob, 'markConversationRead', 'POST', '/api/v1/conversations/read', { conversation_id: conv });
    expect(none.body).toMatchObject({ marked_count: 0, read_seq: 0 });
    expect(await unread(bob)).toBe(0);
  });

  it('advances the group read position monotonically and records group receipts', async () => {
    const [owner, bob, carol] = [uid('owner'), uid('bob'), uid('carol')];
    const g = await createGroup(pool, [owner, bob, carol]);
    const ids = await insertGroupLog(
      pool,
      [1, 2, 3, 4, 5].map((s) => ({ groupId: g, senderId: owner, sequenceNumber: s })),
    );
    expect(await unread(bob)).toBe(5);
    const r = await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: ids[2], device_id: 'phone' });
    expect(r.body).toMatchObject({ conversation_type: 'group', conversation_id: groupConv(g), first_read: true });
    expect(await unread(bob)).toBe(2);
    await eventually(() => eventsFor(ids[2] as string).length === 1, 30_000);
    expect(eventsFor(ids[2] as string)[0]).toMatchObject({ senderId: owner, conversationType: 'group', sequenceNumber: 3 });
    // Reading an older one records its receipt but never moves the position back.
    await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: ids[0], device_id: 'phone' });
    expect(await unread(bob)).toBe(2);
    const receipts = await api.as(carol, 'getReceipts', 'GET', `/api/v1/messages/receipts?msg_id=${ids[2]}`);
    expect(receipts.body).toMatchObject({ sender_id: owner, readers_count: 1, conversation_type: 'group' });
    // The whole group, then a sequence below the position: no change.
    const all = await api.as(bob, 'markConversationRead', 'POST', '/api/v1/conversations/read', { conversation_id: groupConv(g) });
    expect(all.body).toMatchObject({ conversation_type: 'group', read_seq: 5, marked_count: 0 });
    const back = await api.as(bob, 'markConversationRead', 'POST', '/api/v1/conversations/read', { conversation_id: groupConv(g), up_to_sequence: 2 });
    expect(back.body).toMatchObject({ read_seq: 5 });
    expect(await unread(bob)).toBe(0);
    expect(await unread(carol)).toBe(5);
  });
});

async function rowsOf(pool: Pool, msgId: string): Promise<unknown> {
  const [inbox] = await pool.query<RowDataPacket[]>('SELECT user_id, read_at FROM offline_messages WHERE msg_id = ?', [msgId]);
  const [receipts] = await pool.query<RowDataPacket[]>('SELECT reader_id, device_id, read_at, created_at FROM read_receipts WHERE msg_id = ?', [msgId]);
  return { inbox, receipts };
}
