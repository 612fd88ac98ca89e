/**
 * Every Redis key the product uses, built here and nowhere else, so the layout is one
 * page to read (docs/sequences.md describes the sequence and claim keys). The client
 * adds the deployment prefix (REDIS_KEY_PREFIX, default `im:`) to all of them, Lua
 * scripts' KEYS included, so these builders never add it themselves.
 *
 * Ids inside keys come from validated alphabets (user/group ids, conversation ids,
 * msg_ids) or from a scope checked below, and each key family starts with its own
 * literal, so two families never produce the same key.
 */

export const RedisKeys = {
  /**
   * One hash per conversation: `cur` (last number issued) and `ceil` (highest number
   * that may be issued, always <= the MySQL reservation). One key, so losing it loses
   * both fields together — never a counter without its ceiling.
   */
  sequence: (conversationId: string): string => `seq:${conversationId}`,

  /**
   * One hash per (scope, msg_id): the idempotency record of a message in one stage
   * (e.g. scope `route-private`). Scopes keep stages apart: persistence never sees
   * routing's record as "already done".
   */
  messageClaim: (scope: string, msgId: string): string => `claim:${scope}:${msgId}`,

  /**
   * One hash per msg_id: its delivery status for GetMessageStatus (`status`,
   * `delivered_at`, `read_at`, `delivered_devices`), MESSAGE_TTL. Written by
   * route-private (delivery) and mark-read (read) through MessageStatusStore.
   */
  messageStatus: (msgId: string): string => `status:${msgId}`,
} as const;

const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A claim scope has no `:` so that `claim:<scope>:<msgId>` splits one way only. */
export function isValidClaimScope(scope: string): boolean {
  return SCOPE_PATTERN.test(scope);
}
