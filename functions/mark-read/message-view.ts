/**
 * The JSON shape of a message in the inbox listings (openapi.json `Message`), built
 * from a stored inbox or group-log row with its content opened for the caller.
 */
import type { InboxMessage } from '../../shared/storage/inbox';
import type { ContentReader } from './content';

export interface MessageJson {
  msg_id: string;
  sender_id: string;
  recipient_id: string;
  conversation_type: string;
  conversation_id: string;
  group_id?: string;
  content: string | null;
  content_error?: 'ENCRYPTION_ERROR';
  sequence_number: number;
  timestamp: number;
  created_at: number;
  read_at: number | null;
  metadata: Record<string, string>;
}

export async function messageJson(m: InboxMessage, reader: ContentReader): Promise<MessageJson> {
  const opened = await reader.open(m.content, m.msgId);
  const out: MessageJson = {
    msg_id: m.msgId,
    sender_id: m.senderId,
    recipient_id: m.recipientId,
    conversation_type: m.conversationType === 'group' ? 'group' : 'private',
    conversation_id: m.conversationId,
    content: opened.content,
    sequence_number: m.sequenceNumber,
    timestamp: m.clientTimestamp,
    created_at: m.createdAt,
    read_at: m.readAt,
    metadata: parseMetadata(m.metadata),
  };
  if (m.groupId !== undefined) out.group_id = m.groupId;
  if (opened.contentError) out.content_error = opened.contentError;
  return out;
}

/** Stored metadata is a JSON object of strings; anything else is shown as empty. */
export function parseMetadata(raw: string | null): Record<string, string> {
  if (!raw) return {};
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}
