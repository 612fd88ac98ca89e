/**
 * What a RoutePrivateMessage request must look like before anything is touched. Pure:
 * it reads nothing and writes nothing, so a refused request leaves no trace.
 *
 * Rules (docs/route-private.md):
 * - msg_id: 1-128 characters of `A-Z a-z 0-9 _ . : @ -` (UUIDs, the seeds'
 *   `msg_<user>_<ms>_<rand>`, ULIDs all fit); it names Redis keys and Kafka records.
 * - sender_id, recipient_id: the user id alphabet, 1-128 characters
 *   (`^[A-Za-z0-9_.:@-]{1,128}$`, shared/sequence/conversation-id.ts).
 * - sender = recipient is allowed: a note to self reaches the sender's other devices.
 * - content: non-empty, at most MAX_MESSAGE_SIZE bytes of UTF-8 (MESSAGE_TOO_LARGE).
 * - timestamp: 0 (unknown) or a positive ms-since-epoch.
 * - metadata: at most 16 entries; keys 1-64 characters of `A-Z a-z 0-9 _ . -`; values
 *   at most 512 bytes of UTF-8.
 */
import { ImError } from '../../shared/errors';
import type { RoutePrivateMessageRequest } from '../../shared/gen/im/v1/im';
import { USER_ID_PATTERN } from '../../shared/sequence/conversation-id';

export const MSG_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
export const METADATA_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_METADATA_ENTRIES = 16;
export const MAX_METADATA_VALUE_BYTES = 512;

const invalid = (field: string, message: string): ImError =>
  new ImError('INVALID_ARGUMENT', message, { details: { field } });

export function checkMsgId(msgId: string): void {
  if (msgId === '') throw invalid('msg_id', 'msg_id is empty');
  if (!MSG_ID_PATTERN.test(msgId)) {
    throw invalid('msg_id', 'msg_id must be 1-128 characters of A-Z a-z 0-9 _ . : @ -');
  }
}

function checkUserId(id: string, field: 'sender_id' | 'recipient_id'): void {
  if (id === '') throw invalid(field, `${field} is empty`);
  if (!USER_ID_PATTERN.test(id)) throw invalid(field, `${field} must be 1-128 characters of A-Z a-z 0-9 _ . : @ -`);
}

/** Throws the first problem found (INVALID_ARGUMENT or MESSAGE_TOO_LARGE). */
export function validateRoutePrivate(req: RoutePrivateMessageRequest, maxMessageSize: number): void {
  checkMsgId(req.msgId);
  checkUserId(req.senderId, 'sender_id');
  checkUserId(req.recipientId, 'recipient_id');
  if (req.content === '') throw invalid('content', 'content is empty');
  const size = Buffer.byteLength(req.content, 'utf8');
  if (size > maxMessageSize) {
    throw new ImError('MESSAGE_TOO_LARGE', `content is ${size} bytes; the limit is ${maxMessageSize}`, {
      details: { field: 'content', size, limit: maxMessageSize },
    });
  }
  if (!Number.isSafeInteger(req.timestamp) || req.timestamp < 0) {
    throw invalid('timestamp', 'timestamp must be 0 or milliseconds since the epoch');
  }
  const entries = Object.entries(req.metadata);
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw invalid('metadata', `metadata has ${entries.length} entries; the limit is ${MAX_METADATA_ENTRIES}`);
  }
  for (const [key, value] of entries) {
    if (!METADATA_KEY_PATTERN.test(key)) {
      throw invalid('metadata', 'metadata keys must be 1-64 characters of A-Z a-z 0-9 _ . -');
    }
    if (Buffer.byteLength(value, 'utf8') > MAX_METADATA_VALUE_BYTES) {
      throw invalid('metadata', `metadata value of "${key}" exceeds ${MAX_METADATA_VALUE_BYTES} bytes`);
    }
  }
}
