/**
 * Content is decrypted for its owner: sealed rows (envelope encryption bound to the
 * msg_id) come back as text when the function has the key; a row that cannot be
 * opened — sealed for another msg_id, garbage bytes, no key — is reported per message
 * as ENCRYPTION_ERROR without failing the page.
 */
import { randomBytes } from 'node:crypto';
import { createContentCrypto } from '../../../shared/crypto';
import { Content } from '../../../shared/gen/im/events/v1/events';
import type { Host } from '../../../shared/runtime/host';
import type { Pool } from '../../../shared/storage/mysql';
import { testConfig, uid } from '../../support/env';
import { ApiClient, DAY_MS, insertInbox, privateConv, startMarkRead } from './support';

const KEY = randomBytes(32).toString('base64');

describe('content opening', () => {
  let host: Host;
  let api: ApiClient;
  let pool: Pool;

  beforeAll(async () => {
    ({ host, api, pool } = await startMarkRead({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY }));
  });
  afterAll(() => host.stop());

  const insertRaw = async (user: string, sender: string, msgId: string, seq: number, content: Buffer) => {
    const now = Date.now();
    await pool.query(
      `INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id, sequence_number,
         content, metadata, client_timestamp, created_at, expires_at) VALUES (?, ?, ?, 'private', ?, ?, ?, NULL, ?, ?, ?)`,
      [user, msgId, sender, privateConv(user, sender), seq, content, now, now, now + DAY_MS],
    );
  };

  it('opens sealed content for the owner and reports what cannot be opened', async () => {
    const crypto = await createContentCrypto(testConfig({ ENCRYPTION_ENABLED: 'true', ENCRYPTION_KEY: KEY }).encryption);
    const [user, sender] = [uid('u'), uid('s')];
    const [good, moved, garbage] = [uid('m'), uid('m'), uid('m')];
    const seal = async (text: string, context: string) => Buffer.from(Content.encode(await crypto.sealContent(text, context)).finish());
    await insertRaw(user, sender, good, 1, await seal('top secret', good));
    await insertRaw(user, sender, moved, 2, await seal('copied elsewhere', uid('other')));
    await insertRaw(user, sender, garbage, 3, Buffer.from([0xff, 0x01, 0x02]));
    const [plain] = await insertInbox(pool, [{ userId: user, senderId: sender, sequenceNumber: 4, text: 'plain text' }]);

    const page = await api.as(user, 'listOffline', 'GET', '/api/v1/offline');
    const messages = (page.body as { messages: { msg_id: string; content: string | null; content_error?: string }[] }).messages;
    expect(messages.map((m) => [m.msg_id, m.content, m.content_error])).toEqual([
      [good, 'top secret', undefined],
      [moved, null, 'ENCRYPTION_ERROR'],
      [garbage, null, 'ENCRYPTION_ERROR'],
      [plain, 'plain text', undefined],
    ]);

    // A function without the key still serves the page, the sealed row marked.
    const keyless = await startMarkRead();
    try {
      const r = await keyless.api.as(user, 'listOffline', 'GET', '/api/v1/offline?limit=1');
      expect((r.body as { messages: unknown[] }).messages).toEqual([expect.objectContaining({ msg_id: good, content: null, content_error: 'ENCRYPTION_ERROR' })]);
    } finally {
      await keyless.host.stop();
    }
  });
});
