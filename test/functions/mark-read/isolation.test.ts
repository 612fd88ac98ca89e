/**
 * One user's token never reaches another user's messages: A cannot list, mark, ask
 * receipts of, delete or export B's messages, nor act as B through the original API's
 * user fields; every attempt is 404 (or 403 for a named user) and changes nothing.
 */
import type { Host } from '../../../shared/runtime/host';
import type { Pool } from '../../../shared/storage/mysql';
import { uid } from '../../support/env';
import { ApiClient, conversation, createGroup, groupConv, insertGroupLog, insertInbox, privateConv, snapshot, startMarkRead } from './support';

describe('isolation between users', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead());
  });
  afterAll(() => host.stop());

  it("A's token cannot read, mark, delete or export B's messages", async () => {
    const [a, b, c] = [uid('a'), uid('b'), uid('c')];
    const bIds = await insertInbox(pool, conversation(b, c, 3));
    const aIds = await insertInbox(pool, conversation(a, c, 1));
    const g = await createGroup(pool, [c, b]);
    const [gm] = await insertGroupLog(pool, [{ groupId: g, senderId: c, sequenceNumber: 1 }]);
    const before = await snapshot(pool, [a, b, c]);
    const token = await api.token(a);
    const as = (method: string, path: string, body?: unknown) => api.call(method, path, { token, body });

    const list = await as('GET', '/api/v1/offline?limit=100');
    expect((list.body as { messages: { msg_id: string }[] }).messages.map((m) => m.msg_id)).toEqual(aIds);
    const unread = await as('GET', '/api/v1/messages/unread');
    expect((unread.body as { messages: unknown[] }).messages).toHaveLength(1);

    for (const target of [...bIds, gm as string]) {
      expect((await as('POST', '/api/v1/messages/read', { msg_id: target, device_id: 'x' })).status).toBe(404);
      expect((await as('GET', `/api/v1/messages/receipts?msg_id=${target}`)).status).toBe(404);
      const del = await as('DELETE', `/api/v1/messages/${target}`);
      expect(del.status).toBe(404);
      expect(del.body).toEqual({ error: { code: 'NOT_FOUND', message: 'message not found' } });
    }
    expect((await as('POST', '/api/v1/conversations/read', { conversation_id: privateConv(b, c) })).status).toBe(404);
    expect((await as('POST', '/api/v1/conversations/read', { conversation_id: groupConv(g) })).status).toBe(404);

    // The original API's user fields cannot name someone else.
    const named = [
      await as('GET', `/api/v1/messages/unread/count?user_id=${b}`),
      await as('GET', `/api/v1/messages/unread?user_id=${b}`),
      await as('POST', '/api/v1/messages/read', { msg_id: bIds[0], reader_id: b }),
      await as('POST', '/api/v1/conversations/read', { conversation_id: privateConv(b, c), user_id: b }),
    ];
    for (const r of named) expect(r).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED' } } });
    const self = await as('GET', `/api/v1/messages/unread/count?user_id=${a}`);
    expect(self.body).toMatchObject({ count: 1 });

    const exported = await as('GET', '/api/v1/export');
    const doc = exported.body as { user_id: string; messages: { msg_id: string }[] };
    expect(doc.user_id).toBe(a);
    expect(doc.messages.map((m) => m.msg_id)).toEqual(aIds);

    expect(await snapshot(pool, [a, b, c])).toEqual(before);
  });
});
