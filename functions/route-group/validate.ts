/**
 * What a RouteGroupMessage request must look like before anything is touched. Pure: a
 * refused request leaves no trace. The rules are route-private's (docs/route-private.md)
 * with group_id in place of recipient_id:
 * - msg_id: 1-128 characters of `A-Z a-z 0-9 _ . : @ -`;
 * - sender_id, group_id: the id alphabet, 1-128 characters (`^[A-Za-z0-9_.:@-]{1,128}$`);
 * - content: non-empty, at most MAX_MESSAGE_SIZE bytes of UTF-8 (MESSAGE_TOO_LARGE);
 * - timestamp: 0 (unknown) or a positive ms-since-epoch;
 * - metadata: at most 16 entries; keys 1-64 characters of `A-Z a-z 0-9 _ . -`; values at
 *   most 512 bytes of UTF-8. `sender_device_id`, when present, names the device the
 *   sender sent from: fanout skips it and reaches the sender's other devices.
 */
import { ImError } from '../../shared/errors';
import type { RouteGroupMessageRequest } from '../../shared/gen/im/v1/im';
import { GROUP_ID_PATTERN, USER_ID_PATTERN } from '../../shared/sequence/conversation-id';

export const MSG_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
export const METADATA_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_METADATA_ENTRIES = 16;
export const MAX_METADATA_VALUE_BYTES = 512;
/** The metadata key carrying the sender's device id. */
export const SENDER_DEVICE_KEY = 'sender_device_id';

const invalid = (field: string, message: string): ImError =>
  new ImError('INVALID_ARGUMENT', message, { details: { field } });

function checkId(value: string, pattern: RegExp, field: 'msg_id' | 'sender_id' | 'group_id'): void {
  if (value === '') throw invalid(field, `${field} is empty`);
  if (!pattern.test(value)) throw invalid(field, `${field} must be 1-128 characters of A-Z a-z 0-9 _ . : @ -`);
}

/** Throws the first problem found (INVALID_ARGUMENT or MESSAGE_TOO_LARGE). */
export function validateRouteGroup(req: RouteGroupMessageRequest, maxMessageSize: number): void {
  checkId(req.msgId, MSG_ID_PATTERN, 'msg_id');
  checkId(req.senderId, USER_ID_PATTERN, 'sender_id');
  checkId(req.groupId, GROUP_ID_PATTERN, 'group_id');
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
    if (!METADATA_KEY_PATTERN.test(key)) throw invalid('metadata', 'metadata keys must be 1-64 characters of A-Z a-z 0-9 _ . -');
    if (Buffer.byteLength(value, 'utf8') > MAX_METADATA_VALUE_BYTES) {
      throw invalid('metadata', `metadata value of "${key}" exceeds ${MAX_METADATA_VALUE_BYTES} bytes`);
    }
  }
}
