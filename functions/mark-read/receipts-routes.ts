/**
 * HTTP routes of read receipts: POST /api/v1/messages/read, POST
 * /api/v1/conversations/read, GET /api/v1/messages/receipts. Input is validated by
 * the OpenAPI document before these run; the work is ReadService's.
 */
import { Router } from 'express';
import { inputOf, type OpenApi } from './openapi';
import type { ReadService } from './read-service';
import { callerOf } from './self';

interface MarkReadBody {
  msg_id: string;
  device_id?: string;
  read_at?: number;
  reader_id?: string;
}

interface ConversationReadBody {
  conversation_id: string;
  conversation_type?: 'private' | 'group';
  up_to_sequence?: number;
  device_id?: string;
  user_id?: string;
}

export function receiptsRouter(deps: { api: OpenApi; service: ReadService }): Router {
  const { api, service } = deps;
  const router = Router();

  router.post('/api/v1/messages/read', api.validate('markMessageRead'), async (_req, res) => {
    const { body } = inputOf<unknown, unknown, MarkReadBody>(res);
    const caller = callerOf(res, { 'body.reader_id': body.reader_id });
    const r = await service.markMessage(caller, body.msg_id, body.device_id ?? '', body.read_at);
    res.json({
      success: true,
      message: r.firstRead ? 'Read receipt recorded' : 'Read receipt already recorded',
      msg_id: r.msgId,
      conversation_type: r.conversationType,
      conversation_id: r.conversationId,
      read_at: r.readAt,
      first_read: r.firstRead,
    });
  });

  router.post('/api/v1/conversations/read', api.validate('markConversationRead'), async (_req, res) => {
    const { body } = inputOf<unknown, unknown, ConversationReadBody>(res);
    const caller = callerOf(res, { 'body.user_id': body.user_id });
    const r = await service.markConversation(
      caller,
      body.conversation_id,
      body.conversation_type,
      body.up_to_sequence,
      body.device_id ?? '',
    );
    res.json({
      success: true,
      conversation_id: r.conversationId,
      conversation_type: r.conversationType,
      marked_count: r.marked,
      read_seq: r.readSeq,
    });
  });

  router.get('/api/v1/messages/receipts', api.validate('getReceipts'), async (_req, res) => {
    const { query } = inputOf<unknown, { msg_id: string }, unknown>(res);
    const r = await service.receiptsOf(callerOf(res), query.msg_id);
    res.json({
      msg_id: r.target.msgId,
      sender_id: r.target.senderId,
      conversation_type: r.target.conversationType === 'group' ? 'group' : 'private',
      conversation_id: r.target.conversationId,
      readers_count: r.readers,
      receipts: r.receipts.map((x) => ({ reader_id: x.readerId, device_id: x.deviceId, read_at: x.readAt })),
      truncated: r.truncated,
    });
  });

  return router;
}
