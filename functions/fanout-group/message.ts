/**
 * From a group_msg record to what fanout works with: the GroupMessage checked against
 * what the log can hold (INVALID_PAYLOAD otherwise: dead-lettered), its log entry, and
 * the envelope devices receive (plaintext: encryption protects storage, the gateway
 * connection protects transport).
 */
import { decodeEvent } from '../../shared/bus/codec';
import type { ConsumedRecord } from '../../shared/bus/consumed-record';
import { ImError } from '../../shared/errors';
import type { PushEnvelope } from '../../shared/gen/gateway/v1/gateway';
import { Content, type GroupMessage } from '../../shared/gen/im/events/v1/events';
import { GROUP_ID_PATTERN, USER_ID_PATTERN } from '../../shared/sequence/conversation-id';
import type { GroupLogEntry } from '../../shared/storage/group-log';

export const GROUP_MESSAGE_SCHEMA = 'im.events.v1.GroupMessage' as const;
/** The msg_id alphabet of the API (route-group refuses anything else). */
const MSG_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Turns stored content back into the text devices get. */
export type { ContentOpener } from '../../shared/crypto/content-ports';
import type { ContentOpener } from '../../shared/crypto/content-ports';

export interface PreparedMessage {
  readonly record: ConsumedRecord;
  readonly event: GroupMessage;
  readonly entry: GroupLogEntry;
  readonly envelope: PushEnvelope;
}

const invalid = (message: string, field: string): ImError =>
  new ImError('INVALID_PAYLOAD', message, { details: { field } });

/**
 * @param receivedAt fallback for a missing server_time: the Kafka record's timestamp.
 */
export async function prepareMessage(
  record: ConsumedRecord,
  opener: ContentOpener,
  ttlMs: number,
  receivedAt: number,
): Promise<PreparedMessage> {
  const event = decodeEvent(GROUP_MESSAGE_SCHEMA, record.value, record.headers);
  if (!GROUP_ID_PATTERN.test(event.groupId)) throw invalid('GroupMessage group_id is malformed', 'group_id');
  if (!USER_ID_PATTERN.test(event.senderId)) throw invalid('GroupMessage sender_id is malformed', 'sender_id');
  if (!MSG_ID_PATTERN.test(event.msgId)) throw invalid('GroupMessage msg_id is malformed', 'msg_id');
  if (!Number.isSafeInteger(event.sequenceNumber) || event.sequenceNumber <= 0) {
    throw invalid('GroupMessage sequence_number must be a positive integer', 'sequence_number');
  }
  if (!event.content?.body) throw invalid('GroupMessage has no content', 'content');
  const createdAt = event.serverTime > 0 ? event.serverTime : receivedAt;
  if (!Number.isSafeInteger(createdAt) || createdAt <= 0) throw invalid('GroupMessage has no server_time', 'server_time');
  const text = await opener.open(event.content, event.msgId);
  const bytes = Content.encode(event.content).finish();
  const entry: GroupLogEntry = {
    groupId: event.groupId,
    sequenceNumber: event.sequenceNumber,
    msgId: event.msgId,
    senderId: event.senderId,
    content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    metadata: Object.keys(event.metadata).length > 0 ? JSON.stringify(event.metadata) : null,
    clientTimestamp: Number.isSafeInteger(event.timestamp) && event.timestamp > 0 ? event.timestamp : 0,
    createdAt,
    expiresAt: createdAt + ttlMs,
  };
  const envelope: PushEnvelope = {
    msgId: event.msgId,
    senderId: event.senderId,
    conversationType: 'group',
    conversationId: event.groupId,
    sequenceNumber: event.sequenceNumber,
    content: text,
    timestamp: event.timestamp,
    serverTime: createdAt,
    metadata: event.metadata,
    recipientId: '',
  };
  return { record, event, entry, envelope };
}
