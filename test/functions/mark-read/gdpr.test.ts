/**
 * GDPR over real HTTP, MariaDB and Redis: DELETE removes a message from every store
 * the caller's role reaches and says what it removed; export streams every message
 * the caller sent or received as one chunked JSON document.
 */
import type { RowDataPacket } from 'mysql2/promise';
import type { Host } from '../../../shared/runtime/host';
import { MessageStatusStore } from '../../../shared/storage/message-status';
import type { Pool } from '../../../shared/storage/mysql';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import { uid } from '../../support/env';
import { ApiClient, conversation, createGroup, insertGroupLog, insertInbox, openapi, startMarkRead } from './support';

describe('GDPR', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;
  let status: MessageStatusStore;

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead());
    status = new MessageStatusStore(host.deps.redis(), 60_000);
  });
  afterAll(() => host.stop());

  const count = async (sql: string, params: unknown[]) =>
    Number((await pool.query<RowDataPacket[]>(sql, params))[0][0]?.['n']);
  const inboxRows = (msgId: string) => count('SELECT COUNT(*) AS n FROM offline_messages WHERE msg_id = ?', [msgId]);
  const receipts = (msgId: string) => count('SELECT COUNT(*) AS n FROM read_receipts WHERE msg_id = ?', [msgId]);

  it('as recipient: removes their copy, their receipts and the status; again is 404', async () => {
    const [bob, alice] = [uid('bob'), uid('alice')];
    const [m] = (await insertInbox(pool, conversation(bob, alice, 1))) as [string];
    await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: m, device_id: 'phone' });
    expect(await status.get(m)).toMatchObject({ status: 'read' });
    const r = await api.as(bob, 'deleteMessage', 'DELETE', `/api/v1/messages/${m}`);
    expect(r.body).toMatchObject({
      success: true,
      removed: { inbox_rows: 1, group_log_rows: 0, receipts: 1, status_keys: 1, dedup_keys: 0 },
    });
    expect(await inboxRows(m)).toBe(0);
    expect(await receipts(m)).toBe(0);
    expect(await status.get(m)).toBeUndefined();
    expect((await api.call('DELETE', `/api/v1/messages/${m}`, { token: await api.token(bob) })).status).toBe(404);
  });

  it('as sender: removes every inbox copy, the receipts, the status and the dedup records', async () => {
    const [alice, bob] = [uid('alice'), uid('bob')];
    const [m] = (await insertInbox(pool, conversation(bob, alice, 1))) as [string];
    await api.as(bob, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: m, device_id: 'phone' });
    const redis = host.deps.redis();
    await redis.hset(RedisKeys.messageClaim('route-private', m), 's', 'C');
    const r = await api.as(alice, 'deleteMessage', 'DELETE', `/api/v1/messages/${m}`);
    expect(r.body).toMatchObject({ removed: { inbox_rows: 1, receipts: 1, status_keys: 1, dedup_keys: 1 } });
    expect(await inboxRows(m)).toBe(0);
    expect(await redis.exists(RedisKeys.messageClaim('route-private', m))).toBe(0);
  });

  it('as group sender: removes the log entry; a member who did not send it gets 404', async () => {
    const [owner, bob] = [uid('owner'), uid('bob')];
    const g = await createGroup(pool, [owner, bob]);
    const [m] = (await insertGroupLog(pool, [{ groupId: g, senderId: owner, sequenceNumber: 1 }])) as [string];
    expect((await api.call('DELETE', `/api/v1/messages/${m}`, { token: await api.token(bob) })).status).toBe(404);
    const r = await api.as(owner, 'deleteMessage', 'DELETE', `/api/v1/messages/${m}`);
    expect(r.body).toMatchObject({ removed: { group_log_rows: 1 } });
    expect(await count('SELECT COUNT(*) AS n FROM group_messages WHERE msg_id = ?', [m])).toBe(0);
  });

  it('exports thousands of messages as a chunked stream of one JSON document', async () => {
    const [user, friend] = [uid('user'), uid('friend')];
    const received = await insertInbox(pool, conversation(user, friend, 4000));
    const sent = await insertInbox(pool, conversation(friend, user, 500));
    const g = await createGroup(pool, [user, friend]);
    await insertGroupLog(pool, [
      { groupId: g, senderId: friend, sequenceNumber: 1 },
      { groupId: g, senderId: user, sequenceNumber: 2 },
    ]);
    await api.as(user, 'markMessageRead', 'POST', '/api/v1/messages/read', { msg_id: received[0], device_id: 'phone' });

    const res = await fetch(`${api.base}/api/v1/export`, { headers: { authorization: `Bearer ${await api.token(user)}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.headers.get('content-length')).toBeNull();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Buffer[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(Buffer.from(r.value));
    expect(chunks.length).toBeGreaterThan(10);
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      user_id: string;
      messages: { msg_id: string; type: string; content: string; conversation_type: string }[];
      read_receipts: { msg_id: string }[];
      total_messages: number;
    };
    expect(doc.user_id).toBe(user);
    expect(doc.total_messages).toBe(4502);
    expect(doc.messages).toHaveLength(4502);
    expect(doc.messages.filter((m) => m.type === 'received' && m.conversation_type === 'private').map((m) => m.msg_id).sort()).toEqual([...received].sort());
    expect(doc.messages.filter((m) => m.type === 'sent' && m.conversation_type === 'private').map((m) => m.msg_id).sort()).toEqual([...sent].sort());
    expect(doc.messages.filter((m) => m.conversation_type === 'group').map((m) => m.type).sort()).toEqual(['received', 'sent']);
    expect(doc.messages[0]?.content).toMatch(/^message \d+ to /);
    expect(doc.read_receipts.map((x) => x.msg_id)).toEqual([received[0]]);
    expect(openapi.checkResponse('exportData', 200, doc)).toBeUndefined();
  });
});
