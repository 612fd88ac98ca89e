/**
 * From an OfflineMessage event to an `offline_messages` row, refusing what the table
 * cannot hold (INVALID_PAYLOAD, dead-lettered): ids longer than their columns (counted
 * in characters, as MySQL counts them), an unknown conversation type, no content, a
 * negative or unsafe sequence. Content is stored as the encoded im.events.v1.Content
 * protobuf, untouched (plaintext or sealed); the inbox expires MESSAGE_TTL after the
 * router received the message.
 */
import { Content, type OfflineMessage } from '../../shared/gen/im/events/v1/events';
import { ImError } from '../../shared/errors';
import type { OfflineMessageRow } from '../../shared/storage/offline-messages';

export const CONVERSATION_TYPES = ['private', 'group'] as const;

/** Column widths of migrations/001 (characters). */
export const COLUMN_CHARS = { userId: 128, msgId: 128, senderId: 128, conversationId: 300 } as const;

/** The event field each column comes from, as errors name it. */
const FIELD = { userId: 'recipient_id', msgId: 'msg_id', senderId: 'sender_id', conversationId: 'conversation_id' } as const;

const chars = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function invalid(message: string, field: string): ImError {
  return new ImError('INVALID_PAYLOAD', message, { details: { field } });
}

/**
 * @param receivedAt fallback for a missing server_time: the Kafka record's timestamp.
 */
export function toOfflineRow(event: OfflineMessage, ttlMs: number, receivedAt: number): OfflineMessageRow {
  const ids = {
    userId: event.recipientId,
    msgId: event.msgId,
    senderId: event.senderId,
    conversationId: event.conversationId,
  };
  for (const [field, value] of Object.entries(ids) as [keyof typeof COLUMN_CHARS, string][]) {
    if (value.trim() === '') throw invalid(`OfflineMessage ${FIELD[field]} is empty`, FIELD[field]);
    if (chars(value) > COLUMN_CHARS[field]) {
      throw invalid(`OfflineMessage ${FIELD[field]} is longer than ${COLUMN_CHARS[field]} characters`, FIELD[field]);
    }
  }
  if (!(CONVERSATION_TYPES as readonly string[]).includes(event.conversationType)) {
    throw invalid(`OfflineMessage conversation_type "${event.conversationType.slice(0, 32)}" is not private or group`, 'conversation_type');
  }
  if (!event.content?.body) throw invalid('OfflineMessage has no content', 'content');
  if (!Number.isSafeInteger(event.sequenceNumber) || event.sequenceNumber < 0) {
    throw invalid('OfflineMessage sequence_number must be a non-negative integer', 'sequence_number');
  }
  const createdAt = event.serverTime > 0 ? event.serverTime : receivedAt;
  if (!Number.isSafeInteger(createdAt) || createdAt <= 0) throw invalid('OfflineMessage has no server_time', 'server_time');
  const clientTimestamp = Number.isSafeInteger(event.timestamp) && event.timestamp > 0 ? event.timestamp : 0;
  const bytes = Content.encode(event.content).finish();
  const metadata = Object.keys(event.metadata).length > 0 ? JSON.stringify(event.metadata) : null;
  return {
    ...ids,
    conversationType: event.conversationType,
    sequenceNumber: event.sequenceNumber,
    content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    metadata,
    clientTimestamp,
    createdAt,
    expiresAt: createdAt + ttlMs,
  };
}
