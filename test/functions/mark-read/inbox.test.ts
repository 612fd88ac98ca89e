/**
 * The offline inbox over real HTTP and MariaDB: cursor paging returns every message
 * exactly once and in order — also while messages keep arriving, and when private
 * messages are merged with several groups' logs — and counts agree with the pages.
 */
import type { Host } from '../../../shared/runtime/host';
import type { Pool } from '../../../shared/storage/mysql';
import { uid } from '../../support/env';
import {
  ApiClient,
  conversation,
  createGroup,
  groupConv,
  insertGroupLog,
  insertInbox,
  startMarkRead,
} from './support';

interface Page {
  messages: { msg_id: string; sender_id: string; sequence_number: number; content: string; conversation_id: string; group_id?: string; conversation_type: string }[];
  next_cursor: string;
  has_more: boolean;
  total_count: number;
}

describe('GET /api/v1/offline', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead());
  });
  afterAll(() => host.stop());

  const page = async (user: string, cursor: string, limit = 50, path = '/api/v1/offline'): Promise<Page> => {
    const op = path === '/api/v1/offline' ? 'listOffline' : 'listUnread';
    const r = await api.as(user, op, 'GET', `${path}?cursor=${encodeURIComponent(cursor)}&limit=${limit}`);
    expect(r.status).toBe(200);
    return r.body as Page;
  };

  it('pages 250 messages with limit 50: all exactly once, in order, has_more false at the end', async () => {
    const user = uid('u');
    const ids = await insertInbox(pool, conversation(user, uid('s'), 250));
    const seen: string[] = [];
    const hasMore: boolean[] = [];
    let cursor = '';
    for (;;) {
      const p = await page(user, cursor);
      seen.push(...p.messages.map((m) => m.msg_id));
      hasMore.push(p.has_more);
      expect(p.total_count).toBe(250);
      cursor = p.next_cursor;
      if (!p.has_more) break;
    }
    expect(seen).toEqual(ids);
    expect(hasMore).toEqual([true, true, true, true, false]);
    const first = await page(user, '', 1);
    expect(first.messages[0]).toMatchObject({ content: 'message 1 to ' + user, sequence_number: 1, conversation_type: 'private' });
    // The last cursor is a bookmark: nothing new, nothing returned.
    const after = await page(user, cursor);
    expect(after).toMatchObject({ messages: [], has_more: false });
  });

  it('walks every message exactly once while new ones arrive between pages', async () => {
    const user = uid('u');
    const sender = uid('s');
    const expected = await insertInbox(pool, conversation(user, sender, 250));
    let seq = 251;
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; ; i++) {
      const p = await page(user, cursor);
      seen.push(...p.messages.map((m) => m.msg_id));
      cursor = p.next_cursor;
      if (i < 4) {
        const n = 7 + i * 5;
        expected.push(...(await insertInbox(pool, conversation(user, sender, n, seq))));
        seq += n;
      }
      if (!p.has_more) break;
    }
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
    // Arriving after the walk ended: found from the kept cursor, and only them.
    const late = await insertInbox(pool, conversation(user, sender, 3, seq));
    const p = await page(user, cursor);
    expect(p.messages.map((m) => m.msg_id)).toEqual(late);
    expect(p.has_more).toBe(false);
  });

  it('merges private messages with several groups above the read position, each once, own messages included', async () => {
    const user = uid('u');
    const other = uid('o');
    const [g1, g2] = [await createGroup(pool, [other, user]), await createGroup(pool, [user, other])];
    const t0 = Date.now() - 60_000;
    // g1 seq 1..3 already read; everything else is new to `user`.
    await pool.query('INSERT INTO group_read_positions (user_id, group_id, read_seq, updated_at) VALUES (?, ?, 3, ?)', [user, g1, t0]);
    const expected = new Map<string, string[]>([['private', []], [g1, []], [g2, []]]);
    let t = t0;
    let pSeq = 1;
    const gSeq = new Map([[g1, 1], [g2, 1]]);
    const addPrivate = async (n: number) => {
      const rows = conversation(user, other, n, pSeq).map((r) => ({ ...r, createdAt: (t += 7) }));
      pSeq += n;
      expected.get('private')?.push(...(await insertInbox(pool, rows)));
    };
    const addGroup = async (g: string, n: number, sender = other) => {
      for (let i = 0; i < n; i++) {
        const seq = gSeq.get(g) as number;
        gSeq.set(g, seq + 1);
        const [id] = await insertGroupLog(pool, [{ groupId: g, senderId: sender, sequenceNumber: seq, createdAt: (t += 5) }]);
        if (!(g === g1 && seq <= 3)) expected.get(g)?.push(id as string);
      }
    };
    await addGroup(g1, 5);
    await addPrivate(4);
    await addGroup(g2, 6);
    await addGroup(g2, 2, user);
    await addPrivate(3);
    await addGroup(g1, 4);

    const seen: Page['messages'] = [];
    let cursor = '';
    for (let i = 0; ; i++) {
      const p = await page(user, cursor, 4);
      seen.push(...p.messages);
      cursor = p.next_cursor;
      if (i === 1) {
        await addGroup(g2, 3);
        await addPrivate(2);
        await addGroup(g1, 2, user);
        await addGroup(g1, 2);
      }
      if (!p.has_more) break;
    }
    const ids = seen.map((m) => m.msg_id);
    expect(new Set(ids).size).toBe(ids.length);
    const byStream = (key: string) =>
      seen.filter((m) => (key === 'private' ? m.conversation_type === 'private' : m.group_id === key)).map((m) => m.msg_id);
    for (const [key, want] of expected) expect(byStream(key)).toEqual(want);
    expect(seen.find((m) => m.group_id === g1)?.conversation_id).toBe(groupConv(g1));
    // Oldest first across streams.
    const created = await Promise.all(ids.map(async (id) => createdAtOf(pool, id)));
    expect(created).toEqual([...created].sort((a, b) => a - b));
  });

  it('holds a group stream before a fresh hole in its sequences until it fills, and walks over an old one', async () => {
    const user = uid('u');
    const other = uid('o');
    const g = await createGroup(pool, [other, user]);
    const old = Date.now() - 60_000;
    // seq 1-2 old, 3 missing for long (walked over), 4 old; 5 young, 6 missing (fresh hole), 7 young.
    const [m1, m2] = await insertGroupLog(pool, [
      { groupId: g, senderId: other, sequenceNumber: 1, createdAt: old },
      { groupId: g, senderId: other, sequenceNumber: 2, createdAt: old + 1 },
    ]);
    const [m4] = await insertGroupLog(pool, [{ groupId: g, senderId: other, sequenceNumber: 4, createdAt: old + 3 }]);
    const [m5, m7] = await insertGroupLog(pool, [
      { groupId: g, senderId: other, sequenceNumber: 5 },
      { groupId: g, senderId: other, sequenceNumber: 7 },
    ]);
    const p1 = await page(user, '');
    expect(p1.messages.map((m) => m.msg_id)).toEqual([m1, m2, m4, m5]);
    const [m6] = await insertGroupLog(pool, [{ groupId: g, senderId: other, sequenceNumber: 6 }]);
    const p2 = await page(user, p1.next_cursor);
    expect(p2.messages.map((m) => m.msg_id)).toEqual([m6, m7]);
  });

  it('counts the inbox and the unread messages consistently with the listings', async () => {
    const user = uid('u');
    const other = uid('o');
    const rows = conversation(user, other, 5).map((r, i) => ({ ...r, createdAt: 1_000 + Date.now() - 10_000 + i, readAt: i < 2 ? Date.now() : null }));
    await insertInbox(pool, rows);
    const g = await createGroup(pool, [other, user]);
    await insertGroupLog(pool, [
      { groupId: g, senderId: other, sequenceNumber: 1 },
      { groupId: g, senderId: user, sequenceNumber: 2 },
      { groupId: g, senderId: other, sequenceNumber: 3 },
    ]);
    const count = await api.as(user, 'getUnreadCount', 'GET', '/api/v1/messages/unread/count');
    expect(count.body).toEqual({ count: 6, private_count: 3, group_count: 3 });
    const off = await api.as(user, 'getOfflineCount', 'GET', '/api/v1/offline/count');
    expect(off.body).toMatchObject({ count: 8 });
    const o = off.body as { oldest_timestamp: number; newest_timestamp: number };
    expect(o.oldest_timestamp).toBeLessThanOrEqual(o.newest_timestamp);
    const unread = await page(user, '', 50, '/api/v1/messages/unread');
    expect(unread.messages).toHaveLength(6);
    expect(unread.total_count).toBe(6);
    const empty = await api.as(uid('nobody'), 'getOfflineCount', 'GET', '/api/v1/offline/count');
    expect(empty.body).toEqual({ count: 0, oldest_timestamp: null, newest_timestamp: null });
  });

  it('refuses a cursor of another listing or another user', async () => {
    const user = uid('u');
    await insertInbox(pool, conversation(user, uid('s'), 3));
    const p = await page(user, '', 1);
    const unread = await api.call('GET', `/api/v1/messages/unread?cursor=${p.next_cursor}`, { token: await api.token(user) });
    expect(unread.status).toBe(400);
    expect(unread.body).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const stolen = await api.call('GET', `/api/v1/offline?cursor=${p.next_cursor}`, { token: await api.token(uid('eve')) });
    expect(stolen.status).toBe(400);
  });
});

async function createdAtOf(pool: Pool, msgId: string): Promise<number> {
  const [rows] = await pool.query<import('mysql2/promise').RowDataPacket[]>(
    'SELECT created_at FROM offline_messages WHERE msg_id = ? UNION ALL SELECT created_at FROM group_messages WHERE msg_id = ?',
    [msgId, msgId],
  );
  return Number(rows[0]?.['created_at']);
}
