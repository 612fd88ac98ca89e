/**
 * GDPR routes: DELETE /api/v1/messages/{msg_id} erases a message from every store the
 * project owns, as far as the caller's role allows; GET /api/v1/export streams
 * everything the caller sent or received as one chunked JSON document.
 */
import { once } from 'node:events';
import { Router, type Response } from 'express';
import type { RowDataPacket } from 'mysql2/promise';
import { ImError } from '../../shared/errors';
import type { Logger } from '../../shared/observability/logger';
import { groupConversationId } from '../../shared/sequence/conversation-id';
import type { Redis } from '../../shared/storage/redis';
import { RedisKeys } from '../../shared/storage/redis-keys';
import type { InboxStore } from '../../shared/storage/inbox';
import type { MessageStatusStore } from '../../shared/storage/message-status';
import type { ReceiptStore } from '../../shared/storage/receipts';
import type { ContentReader } from './content';
import type { ExportRowKind, GdprStore } from './gdpr-store';
import { inputOf, type OpenApi } from './openapi';
import { callerOf } from './self';

/** Stages that keep msg_id idempotency records (shared/dedup claim scopes). */
export const DEDUP_SCOPES = ['route-private', 'route-group', 'fanout-group', 'persist-offline'] as const;

export interface GdprDeps {
  readonly api: OpenApi;
  readonly inbox: InboxStore;
  readonly receipts: ReceiptStore;
  readonly status: MessageStatusStore;
  readonly gdpr: GdprStore;
  readonly redis: Redis;
  readonly content: ContentReader;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** Bytes gathered before one write to the socket. */
const FLUSH_BYTES = 32 * 1024;

export function gdprRouter(d: GdprDeps): Router {
  const router = Router();

  router.delete('/api/v1/messages/:msg_id', d.api.validate('deleteMessage'), async (_req, res) => {
    const { params } = inputOf<{ msg_id: string }, unknown, unknown>(res);
    const caller = callerOf(res);
    const msgId = params.msg_id;
    const [received, group, sent, signed] = await Promise.all([
      d.inbox.findReceived(caller, msgId),
      d.inbox.findGroupMessage(msgId, caller),
      d.inbox.findSent(caller, msgId),
      d.receipts.findBySender(caller, msgId),
    ]);
    const rights = {
      recipient: received !== undefined,
      author: group?.message.senderId === caller || sent !== undefined || signed !== undefined,
    };
    if (!rights.recipient && !rights.author) throw new ImError('NOT_FOUND', 'message not found');
    // Redis first: if it fails nothing is deleted yet and a retry still finds the message.
    const { statusKeys, dedupKeys } = await eraseRedis(d, msgId, rights.author);
    const rows = await d.gdpr.erase(caller, msgId, rights);
    res.json({
      success: true,
      message: 'Message deleted from all systems',
      msg_id: msgId,
      removed: {
        inbox_rows: rows.inboxRows,
        group_log_rows: rows.groupLogRows,
        receipts: rows.receipts,
        status_keys: statusKeys,
        dedup_keys: dedupKeys,
      },
    });
  });

  router.get('/api/v1/export', d.api.validate('exportData'), async (_req, res) => {
    const caller = callerOf(res);
    try {
      await d.gdpr.withExport(caller, (rows) => streamExport(res, caller, rows, d));
    } catch (err) {
      if (!res.headersSent) throw err;
      // Mid-stream: cut the connection so the client sees an incomplete body, never a short "complete" one.
      d.logger.error({ err }, 'export stream failed');
      res.destroy();
    }
  });

  return router;
}

async function eraseRedis(d: GdprDeps, msgId: string, author: boolean): Promise<{ statusKeys: number; dedupKeys: number }> {
  try {
    const statusKeys = await d.status.delete(msgId);
    const dedupKeys = author ? await d.redis.del(...DEDUP_SCOPES.map((s) => RedisKeys.messageClaim(s, msgId))) : 0;
    return { statusKeys, dedupKeys };
  } catch (err) {
    throw new ImError('SERVICE_UNAVAILABLE', 'redis unavailable', { cause: err });
  }
}

async function streamExport(
  res: Response,
  caller: string,
  rows: (kind: ExportRowKind) => AsyncIterable<RowDataPacket>,
  d: GdprDeps,
): Promise<void> {
  let buffer = '';
  let closed = false;
  res.once('close', () => (closed = true));
  const write = async (text: string, force = false): Promise<void> => {
    buffer += text;
    if (!force && buffer.length < FLUSH_BYTES) return;
    if (closed) throw new ImError('INTERNAL', 'client went away');
    const ok = res.write(buffer);
    buffer = '';
    if (ok) return;
    const ac = new AbortController();
    const { signal } = ac;
    await Promise.race([once(res, 'drain', { signal }), once(res, 'close', { signal })]).finally(() => ac.abort());
  };
  res.status(200);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Disposition', 'attachment; filename="export.json"');
  const head = { user_id: caller, export_date: new Date(d.clock()).toISOString() };
  await write(`${JSON.stringify(head).slice(0, -1)},"messages":[`, true);
  let total = 0;
  for (const kind of ['received', 'sent', 'group-received', 'group-sent'] as const) {
    for await (const r of rows(kind)) {
      const opened = await d.content.open(r['content'] as Buffer, String(r['msg_id']));
      const group = kind === 'group-received' || kind === 'group-sent';
      const m: Record<string, unknown> = {
        msg_id: r['msg_id'],
        type: kind === 'received' || kind === 'group-received' ? 'received' : 'sent',
        conversation_type: group ? 'group' : r['conversation_type'] === 'group' ? 'group' : 'private',
        conversation_id: group ? groupConversationId(String(r['group_id'])) : r['conversation_id'],
        sender_id: r['sender_id'],
        ...(group ? { group_id: r['group_id'] } : { recipient_id: r['recipient_id'] }),
        content: opened.content,
        ...(opened.contentError ? { content_error: opened.contentError } : {}),
        sequence_number: Number(r['sequence_number']),
        timestamp: Number(r['client_timestamp']),
        created_at: Number(r['created_at']),
        read_at: group || r['read_at'] === null ? null : Number(r['read_at']),
      };
      await write(`${total === 0 ? '' : ','}${JSON.stringify(m)}`);
      total++;
    }
  }
  await write('],"read_receipts":[');
  let first = true;
  for await (const r of rows('receipt')) {
    const x = {
      msg_id: r['msg_id'],
      sender_id: r['sender_id'],
      conversation_id: r['conversation_id'],
      device_id: r['device_id'],
      read_at: Number(r['read_at']),
    };
    await write(`${first ? '' : ','}${JSON.stringify(x)}`);
    first = false;
  }
  await write(`],"total_messages":${total}}`, true);
  res.end();
}
