/**
 * Conversation ids: the one place they are built. The same string keys the sequence
 * counter (Redis), the reservation row (MySQL `sequence_reservations`), Kafka events'
 * `conversation_id` and the `conversation_id` columns, so every function must build it
 * here.
 *
 * - private: the unordered pair of users, `p:<min>:<max>` (a→b and b→a share one id);
 * - group:   `g:<groupId>`.
 *
 * User ids may contain `:` (`^[A-Za-z0-9_.:@-]{1,128}$`), which would make
 * `p:a:b:c` ambiguous ((a, b:c) or (a:b, c)). Rule: when either id contains `:`, the
 * lower id is length-prefixed — `p:<len(min)>:<min>:<max>`. The plain form has exactly
 * two `:`, the prefixed form at least three, so the two forms never collide and each
 * decodes one way. Ids without `:` (the common case) keep the readable form. The
 * longest id is 2 + 3 + 1 + 128 + 1 + 128 = 263 characters, within the columns'
 * VARCHAR(300).
 */
import { ImError } from '../errors';

/** The user id alphabet of the API. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;
/** Group ids: the same alphabet and length (the `groups.group_id` column is VARCHAR(128)). */
export const GROUP_ID_PATTERN = USER_ID_PATTERN;

export type ParsedConversationId =
  | { readonly kind: 'private'; readonly users: readonly [string, string] }
  | { readonly kind: 'group'; readonly groupId: string };

function checkId(id: string, pattern: RegExp, field: string): void {
  if (!pattern.test(id)) {
    throw new ImError('INVALID_ARGUMENT', `${field} is empty or malformed`, { details: { field } });
  }
}

/** The conversation of two users, the same whichever of them sends. */
export function privateConversationId(a: string, b: string): string {
  checkId(a, USER_ID_PATTERN, 'sender_id');
  checkId(b, USER_ID_PATTERN, 'recipient_id');
  const [min, max] = a <= b ? [a, b] : [b, a];
  if (min.includes(':') || max.includes(':')) return `p:${min.length}:${min}:${max}`;
  return `p:${min}:${max}`;
}

/** The conversation of a group. */
export function groupConversationId(groupId: string): string {
  checkId(groupId, GROUP_ID_PATTERN, 'group_id');
  return `g:${groupId}`;
}

/** Decodes an id built above; undefined for anything else. */
export function parseConversationId(id: string): ParsedConversationId | undefined {
  if (id.startsWith('g:')) {
    const groupId = id.slice(2);
    return GROUP_ID_PATTERN.test(groupId) ? { kind: 'group', groupId } : undefined;
  }
  if (!id.startsWith('p:')) return undefined;
  const body = id.slice(2);
  const parts = body.split(':');
  let min: string;
  let max: string;
  if (parts.length === 2) {
    [min, max] = parts as [string, string];
  } else {
    const m = /^([1-9]\d{0,2}):/.exec(body);
    if (!m) return undefined;
    const len = Number(m[1]);
    const rest = body.slice(m[0].length);
    min = rest.slice(0, len);
    if (rest.length < len + 2 || rest[len] !== ':') return undefined;
    max = rest.slice(len + 1);
  }
  if (!USER_ID_PATTERN.test(min) || !USER_ID_PATTERN.test(max) || min > max) return undefined;
  // Only canonical encodings decode, so parse(build(x)) and build(parse(id)) round-trip.
  return privateConversationId(min, max) === id ? { kind: 'private', users: [min, max] } : undefined;
}
