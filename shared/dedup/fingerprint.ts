/**
 * Request fingerprints for msg_id claims: the same msg_id with a different message
 * is a conflict (DUPLICATE_MESSAGE), the same message again is a retry. The timestamp
 * is left out on purpose: a gateway may re-stamp a retry, and that is still a retry.
 */
import * as crypto from 'node:crypto';

// One-shot hashing (Node >= 20.12) skips building a Hash object per message; same digest.
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

export type MessageTarget = { readonly recipientId: string } | { readonly groupId: string };

export type FingerprintInput = MessageTarget & {
  readonly senderId: string;
  readonly content: string | Uint8Array;
  readonly metadata?: Readonly<Record<string, string>>;
};

/**
 * sha256 (hex) over a canonical JSON array: version tag, target kind, ids, content
 * (bytes as base64), metadata entries sorted by key. An array of strings has one JSON
 * form, so different inputs cannot share a serialisation.
 */
export function messageFingerprint(input: FingerprintInput): string {
  const [kind, target] = 'groupId' in input ? ['g', input.groupId] : ['p', input.recipientId];
  const content =
    typeof input.content === 'string' ? ['s', input.content] : ['b', Buffer.from(input.content).toString('base64')];
  const metadata = Object.entries(input.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify(['im-msg-v1', kind, input.senderId, target, ...content, metadata]);
  return sha256Hex(canonical);
}
