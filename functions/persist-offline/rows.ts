/**
 * From an OfflineMessage event to an `offline_messages` row, refusing what the table
 * cannot hold (INVALID_PAYLOAD, dead-lettered): ids longer than their columns (counted
 * in characters, as MySQL counts them), an unknown conversation type, no content, a
 * negative or unsafe sequence. Content is stored as the encoded im.events.v1.Content
 * protobuf, untouched (plaintext or sealed): sliced from the record when it has one, so
 * the hot path never re-encodes; the inbox expires MESSAGE_TTL after the router
 * received the message.
 */
import { Content, type OfflineMessage } from '../../shared/gen/im/events/v1/events';
import { ImError } from '../../shared/errors';
import type { OfflineMessageRow } from '../../shared/storage/offline-messages';
import { singleFieldBytes } from './wire';

export const CONVERSATION_TYPES = ['private', 'group'] as const;

/** Column widths of migrations/001 (characters). */
export const COLUMN_CHARS = { userId: 128, msgId: 128, senderId: 128, conversationId: 300 } as const;

/** The event field each column comes from, as errors name it. */
const FIELD = { userId: 'recipient_id', msgId: 'msg_id', senderId: 'sender_id', conversationId: 'conversation_id' } as const;

/** OfflineMessage.content's field number (proto/im/events/v1/events.proto). */
const CONTENT_FIELD = 7;

/** More than `max` characters (code points, as MySQL counts them)? UTF-16 length bounds it. */
const longerThan = (s: string, max: number): boolean => {
  if (s.length <= max) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
};

function invalid(message: string, field: string): ImError {
  return new ImError('INVALID_PAYLOAD', message, { details: { field } });
}

function checkId(field: keyof typeof COLUMN_CHARS, value: string): void {
  if (value.trim() === '') throw invalid(`OfflineMessage ${FIELD[field]} is empty`, FIELD[field]);
  if (longerThan(value, COLUMN_CHARS[field])) {
    throw invalid(`OfflineMessage ${FIELD[field]} is longer than ${COLUMN_CHARS[field]} characters`, FIELD[field]);
  }
}

/**
 * @param receivedAt fallback for a missing server_time: the Kafka record's timestamp.
 * @param encoded the record value `event` was decoded from, to slice the content out of.
 */
export function toOfflineRow(event: OfflineMessage, ttlMs: number, receivedAt: number, encoded?: Buffer): OfflineMessageRow {
  checkId('userId', event.recipientId);
  checkId('msgId', event.msgId);
  checkId('senderId', event.senderId);
  checkId('conversationId', event.conversationId);
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
  const metadata = Object.keys(event.metadata).length > 0 ? JSON.stringify(event.metadata) : null;
  return {
    userId: event.recipientId,
    msgId: event.msgId,
    senderId: event.senderId,
    conversationId: event.conversationId,
    conversationType: event.conversationType,
    sequenceNumber: event.sequenceNumber,
    content: (encoded && singleFieldBytes(encoded, CONTENT_FIELD)) ?? encodeContent(event.content),
    metadata,
    clientTimestamp,
    createdAt,
    expiresAt: createdAt + ttlMs,
  };
}

function encodeContent(content: Content): Buffer {
  const bytes = Content.encode(content).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
