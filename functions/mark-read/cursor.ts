/**
 * The opaque paging cursor of /offline and /messages/unread: the walk's position in
 * each of its streams (the last private inbox id returned, and per group the last
 * sequence returned), as base64url JSON sealed with an HMAC over the user and listing.
 * A cursor that was altered, is garbage, or belongs to another user or listing fails
 * to decode with INVALID_ARGUMENT; nothing about it is trusted before the MAC checks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ImError } from '../../shared/errors';
import { compile } from '../../shared/http/validate';
import type { InboxPosition } from '../../shared/storage/inbox';

export type Listing = 'offline' | 'unread';

interface CursorPayload {
  v: 1;
  /** o = offline, u = unread. */
  m: 'o' | 'u';
  p: number;
  g: [string, number][];
}

const MAC_BYTES = 16;
const MAX_GROUPS = 10_000;

const parsePayload = compile<CursorPayload>({
  type: 'object',
  properties: {
    v: { const: 1 },
    m: { enum: ['o', 'u'] },
    p: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    g: {
      type: 'array',
      maxItems: MAX_GROUPS,
      items: {
        type: 'array',
        minItems: 2,
        additionalItems: false,
        items: [
          { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{1,128}$' },
          { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        ],
      },
    },
  },
  required: ['v', 'm', 'p', 'g'],
  additionalProperties: false,
});

export class CursorCodec {
  readonly #key: Buffer;

  /** `secret` seeds the MAC key (JWT_SECRET: already a deployment secret of this function). */
  constructor(secret: string) {
    this.#key = createHmac('sha256', 'im-functions/cursor/v1').update(secret).digest();
  }

  encode(userId: string, listing: Listing, pos: InboxPosition): string {
    const payload: CursorPayload = {
      v: 1,
      m: listing === 'offline' ? 'o' : 'u',
      p: pos.privateId,
      g: [...pos.groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.#mac(userId, body).toString('base64url')}`;
  }

  /** An empty or absent cursor is the beginning of the walk. */
  decode(userId: string, listing: Listing, cursor: string | undefined): InboxPosition {
    if (cursor === undefined || cursor === '') return { privateId: 0, groups: new Map() };
    const bad = (): ImError => new ImError('INVALID_ARGUMENT', 'invalid cursor', { details: { field: 'query.cursor' } });
    const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(cursor);
    if (!m) throw bad();
    const [, body, mac] = m as unknown as [string, string, string];
    const given = Buffer.from(mac, 'base64url');
    const expected = this.#mac(userId, body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
    let payload: CursorPayload;
    try {
      payload = parsePayload(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown);
    } catch {
      throw bad();
    }
    if (payload.m !== (listing === 'offline' ? 'o' : 'u')) throw bad();
    return { privateId: payload.p, groups: new Map(payload.g) };
  }

  #mac(userId: string, body: string): Buffer {
    return createHmac('sha256', this.#key).update(`${userId}\n${body}`).digest().subarray(0, MAC_BYTES);
  }
}
