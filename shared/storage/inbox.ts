/**
 * The read side of a user's inbox: private messages (`offline_messages`, one row per
 * recipient) merged with the group messages above the user's read position in each of
 * their groups (`group_messages`, stored once per group; read diffusion), plus the
 * counts and the "may this user see this message" look-ups.
 *
 * The walk is a k-way merge of ordered streams — the private stream by `id`, each
 * group's stream by `sequence_number` — taking the oldest head (`created_at`) each time.
 * A position holds the last id / sequence returned per stream, so a page never skips or
 * repeats a message, and messages stored after a position was handed out are found on
 * the next page:
 *  - private ids: a user's rows are written by the one consumer of their `offline_msg`
 *    partition, batch after batch, so a user's ids are committed in increasing order;
 *  - group sequences are issued before the log write, so a later sequence may reach the
 *    log first. A group stream therefore stops before a hole in its sequences while the
 *    entry after the hole is younger than `settleMs`; an older hole is taken as
 *    permanent (failed publish, deleted or expired message) and walked over.
 *
 * Group entries are a member's from their read position on (a member without a
 * position row has read nothing), the member's own messages included, as a catch-up
 * by sequence range returns them. Every group query reads O(1) or O(entries above the
 * position) rows, never the whole log: correlated look-ups are `ORDER BY … LIMIT 1`
 * (an index dive — a correlated MIN/MAX or range scans the group's whole log on
 * MariaDB), range scans take constant bounds.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { KeyedBatcher } from '../batching/keyed-batcher';
import { ImError } from '../errors';

export interface InboxPosition {
  /** Last `offline_messages.id` returned (0 = none). */
  readonly privateId: number;
  /** Per group: the last sequence returned, when above the read position. */
  readonly groups: ReadonlyMap<string, number>;
}

export interface InboxMessage {
  readonly kind: 'private' | 'group';
  /** Place in its stream: `offline_messages.id` (private) or the group sequence. */
  readonly streamPos: number;
  readonly msgId: string;
  readonly senderId: string;
  /** The inbox owner. */
  readonly recipientId: string;
  readonly conversationType: string;
  readonly conversationId: string;
  readonly groupId: string | undefined;
  readonly sequenceNumber: number;
  /** The stored `im.events.v1.Content` protobuf. */
  readonly content: Buffer;
  readonly metadata: string | null;
  readonly clientTimestamp: number;
  readonly createdAt: number;
  readonly readAt: number | null;
}

export interface InboxPage {
  readonly messages: InboxMessage[];
  readonly position: InboxPosition;
  /** More messages are available right now. */
  readonly hasMore: boolean;
  /** Messages of the whole listing (private rows + group counts as in InboxCounts). */
  readonly total: number;
}

export interface InboxCounts {
  readonly private: number;
  /**
   * Σ over the user's groups of (latest sequence − read position), the read-diffusion
   * definition: O(1) per group, and exact unless the log has holes (a failed publish, a
   * deleted message) above the position.
   */
  readonly group: number;
}

export interface InboxSpan {
  readonly count: number;
  readonly oldest: number | null;
  readonly newest: number | null;
}

export interface InboxStoreOptions {
  /** How long a hole in a group's sequences may be waiting for its late entry. */
  readonly settleMs?: number;
  /** Group streams fetched per UNION ALL statement. */
  readonly groupsPerStatement?: number;
  /** Builds a group's conversation id (`g:<id>`). */
  readonly groupConversationId: (groupId: string) => string;
}

interface Membership {
  groupId: string;
  /** Read position (0 when the member never read). */
  readSeq: number;
  /** First and last sequence in the log (0 when empty). */
  firstSeq: number;
  lastSeq: number;
}

interface Stream {
  readonly key: string;
  readonly entries: InboxMessage[];
  taken: number;
  pos: number;
}

const PRIVATE_COLUMNS =
  'id, msg_id, sender_id, conversation_type, conversation_id, sequence_number, content, metadata, client_timestamp, created_at, read_at';
const GROUP_COLUMNS = 'group_id, sequence_number, msg_id, sender_id, content, metadata, client_timestamp, created_at';

/**
 * A member's groups with read position and log ends, one index dive each. The read
 * position is a scalar look-up, not a LEFT JOIN: MariaDB 10.11 refused the second run of
 * a prepared statement aggregating a derived table that held the outer join
 * (ER_MIX_OF_GROUP_FUNC_AND_FIELDS under MySQL 8's ONLY_FULL_GROUP_BY, docs/mysql8.md).
 */
const MEMBERSHIPS = `SELECT m.group_id,
    COALESCE((SELECT rp.read_seq FROM group_read_positions rp WHERE rp.user_id = m.user_id AND rp.group_id = m.group_id), 0) AS read_seq,
    (SELECT g.sequence_number FROM group_messages g WHERE g.group_id = m.group_id ORDER BY g.sequence_number LIMIT 1) AS first_seq,
    (SELECT g.sequence_number FROM group_messages g WHERE g.group_id = m.group_id ORDER BY g.sequence_number DESC LIMIT 1) AS last_seq
  FROM group_members m
  WHERE m.user_id = ?`;

/**
 * Unread counts of several users in one statement: a derived table of the users, and per
 * user two correlated look-ups — the private count (a ref on idx_offline_unread,
 * index-only) and Σ over the user's groups of (latest − max(read position, first − 1)),
 * each term one index dive (NULL for an empty log, which SUM skips). Planned once per
 * statement, whatever the number of users: the earlier form, one UNION ALL branch per
 * user with the count as a constant range, had MariaDB plan every branch (index dives
 * into five candidate indexes each) and cost it 3-5 times the CPU per user. No derived
 * table is aggregated, so MariaDB's ONLY_FULL_GROUP_BY bug with re-executed prepared
 * statements (docs/mysql8.md) does not apply.
 */
const GROUP_UNREAD = `GREATEST(0,
    (SELECT g.sequence_number FROM group_messages g WHERE g.group_id = m.group_id ORDER BY g.sequence_number DESC LIMIT 1)
    - GREATEST(
        COALESCE((SELECT rp.read_seq FROM group_read_positions rp WHERE rp.user_id = m.user_id AND rp.group_id = m.group_id), 0),
        (SELECT g.sequence_number FROM group_messages g WHERE g.group_id = m.group_id ORDER BY g.sequence_number LIMIT 1) - 1))`;

/** Users per statement; sizes are rounded up to a power of two (few prepared variants). */
const UNREAD_BATCH_MAX = 32;
const unreadCountsFor = (n: number): string => `SELECT b.u,
  (SELECT COUNT(*) FROM offline_messages o WHERE o.user_id = b.u AND o.read_at IS NULL AND o.expires_at > ?) AS p,
  (SELECT COALESCE(SUM(${GROUP_UNREAD}), 0) FROM group_members m WHERE m.user_id = b.u) AS g
  FROM (${Array.from({ length: n }, () => 'SELECT ? AS u').join(' UNION ALL ')}) b`;

export class InboxStore {
  readonly #settleMs: number;
  /**
   * Concurrent unread-count requests share statements (the hottest read of the API). One
   * statement in flight: users asked for meanwhile leave together in the next (8 a
   * statement at the bench's 16 connections, against 4 with two in flight, which took
   * MariaDB about 40% more CPU per count for no more throughput).
   */
  readonly #unread = new KeyedBatcher<string, InboxCounts>((users) => this.#unreadCountsMany(users), {
    maxInFlight: 1,
    maxBatch: UNREAD_BATCH_MAX,
  });
  readonly #groupsPerStatement: number;
  readonly #groupConversationId: (groupId: string) => string;

  constructor(
    private readonly pool: Pool,
    opts: InboxStoreOptions,
    private readonly clock: () => number = Date.now,
  ) {
    this.#settleMs = opts.settleMs ?? 2000;
    this.#groupsPerStatement = opts.groupsPerStatement ?? 50;
    this.#groupConversationId = opts.groupConversationId;
  }

  /** One page of the walk from `from`, oldest first; `unreadOnly` skips read private rows. */
  async page(userId: string, from: InboxPosition, limit: number, opts: { unreadOnly: boolean }): Promise<InboxPage> {
    const now = this.clock();
    const fetch = limit + 1;
    const unread = opts.unreadOnly ? 'AND read_at IS NULL' : '';
    const [privateRows, [counted], memberships] = await Promise.all([
      this.#query(
        `SELECT ${PRIVATE_COLUMNS} FROM offline_messages
         WHERE user_id = ? AND id > ? AND expires_at > ? ${unread} ORDER BY id LIMIT ${fetch}`,
        [userId, from.privateId, now],
        true,
      ),
      this.#query(`SELECT COUNT(*) AS c FROM offline_messages WHERE user_id = ? AND expires_at > ? ${unread}`, [userId, now], true),
      this.#memberships(userId),
    ]);
    const streams: Stream[] = [
      { key: '', entries: privateRows[0].map((r) => this.#privateRow(userId, r)), taken: 0, pos: from.privateId },
    ];
    const starts = new Map<string, { start: number; floor: number; membership: Membership }>();
    for (const m of memberships) {
      const floor = m.readSeq;
      starts.set(m.groupId, { start: Math.max(floor, from.groups.get(m.groupId) ?? 0), floor, membership: m });
    }
    const due = [...starts.values()].filter((s) => s.membership.lastSeq > s.start);
    for (let i = 0; i < due.length; i += this.#groupsPerStatement) {
      const chunk = due.slice(i, i + this.#groupsPerStatement);
      const rows = await this.#groupRows(chunk, fetch, now);
      for (const s of chunk) {
        const entries = rows.get(s.membership.groupId) ?? [];
        streams.push({ key: s.membership.groupId, entries: this.#settled(userId, entries, s.start, now), taken: 0, pos: s.start });
      }
    }
    const messages = merge(streams, limit);
    const groups = new Map<string, number>();
    for (const [groupId, s] of starts) {
      const pos = streams.find((st) => st.key === groupId)?.pos ?? s.start;
      if (pos > s.floor) groups.set(groupId, pos);
    }
    return {
      messages,
      position: { privateId: (streams[0] as Stream).pos, groups },
      hasMore: streams.some((s) => s.taken < s.entries.length),
      total: Number(counted[0]?.['c'] ?? 0) + groupCount(memberships),
    };
  }

  /** Unread messages: private rows without read_at, group entries above the read position. */
  unreadCounts(userId: string): Promise<InboxCounts> {
    return this.#unread.load(userId);
  }

  /** Unread-count statements run and users they counted (their ratio is the mean batch). */
  unreadBatchStats(): { batches: number; users: number } {
    const s = this.#unread.stats();
    return { batches: s.batches, users: s.keys };
  }

  async #unreadCountsMany(users: readonly string[]): Promise<Map<string, InboxCounts>> {
    const now = this.clock();
    let n = 1;
    while (n < users.length) n *= 2;
    const padded = Array.from({ length: n }, (_, i) => users[Math.min(i, users.length - 1)] as string);
    const [rows] = await this.#query(unreadCountsFor(n), [now, ...padded], true);
    return new Map(rows.map((r) => [String(r['u']), { private: Number(r['p']), group: Number(r['g']) }]));
  }

  /**
   * The whole walk's size and age range: the private inbox (read or not) plus the
   * group entries above the read positions (counted as in InboxCounts; their ages from
   * constant-bound range scans of the groups with something above the position).
   */
  async span(userId: string): Promise<InboxSpan> {
    const now = this.clock();
    const [[priv], memberships] = await Promise.all([
      this.#query('SELECT COUNT(*) AS c, MIN(created_at) AS lo, MAX(created_at) AS hi FROM offline_messages WHERE user_id = ? AND expires_at > ?', [userId, now]),
      this.#memberships(userId),
    ]);
    const rows = [...priv];
    const due = memberships.filter((m) => m.lastSeq > m.readSeq);
    for (let i = 0; i < due.length; i += this.#groupsPerStatement) {
      const chunk = due.slice(i, i + this.#groupsPerStatement);
      const sql = chunk
        .map(() => `SELECT 0 AS c, MIN(created_at) AS lo, MAX(created_at) AS hi FROM group_messages
            WHERE group_id = ? AND sequence_number > ? AND expires_at > ?`)
        .join(' UNION ALL ');
      const [more] = await this.#query(sql, chunk.flatMap((m) => [m.groupId, m.readSeq, now]));
      rows.push(...more);
    }
    let count = groupCount(memberships);
    let oldest: number | null = null;
    let newest: number | null = null;
    for (const r of rows) {
      count += Number(r['c']);
      if (r['lo'] !== null) oldest = oldest === null ? Number(r['lo']) : Math.min(oldest, Number(r['lo']));
      if (r['hi'] !== null) newest = newest === null ? Number(r['hi']) : Math.max(newest, Number(r['hi']));
    }
    return { count, oldest, newest };
  }

  /** The user's own inbox copy of a message (expired or not). */
  async findReceived(userId: string, msgId: string): Promise<InboxMessage | undefined> {
    const [rows] = await this.#query(
      `SELECT ${PRIVATE_COLUMNS} FROM offline_messages WHERE user_id = ? AND msg_id = ?`,
      [userId, msgId],
    );
    return rows[0] ? this.#privateRow(userId, rows[0]) : undefined;
  }

  /** Any inbox copy of a message `senderId` sent (proves they are its sender). */
  async findSent(senderId: string, msgId: string): Promise<InboxMessage | undefined> {
    const [rows] = await this.#query(
      `SELECT user_id, ${PRIVATE_COLUMNS} FROM offline_messages WHERE sender_id = ? AND msg_id = ? LIMIT 1`,
      [senderId, msgId],
    );
    const r = rows[0];
    return r ? this.#privateRow(String(r['user_id']), r) : undefined;
  }

  /** A group log entry with whether `userId` is a member of its group now. */
  async findGroupMessage(msgId: string, userId: string): Promise<{ message: InboxMessage; member: boolean } | undefined> {
    const [rows] = await this.#query(
      `SELECT ${GROUP_COLUMNS},
         EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.group_id AND m.user_id = ?) AS member
       FROM group_messages g WHERE g.msg_id = ?`,
      [userId, msgId],
    );
    const r = rows[0];
    return r ? { message: this.#groupRow(userId, r), member: Number(r['member']) === 1 } : undefined;
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    const [rows] = await this.#query(
      'SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?',
      [groupId, userId],
    );
    return rows.length > 0;
  }

  /** Every read goes through here: a driver failure is RETRIEVAL_ERROR, its text stays in logs. */
  async #query(sql: string, params: unknown[], prepared = false): Promise<[RowDataPacket[], unknown]> {
    try {
      // Prepared (cached per connection) for the fixed hot statements; text for the variable ones.
      return prepared
        ? await this.pool.execute<RowDataPacket[]>(sql, params as (string | number)[])
        : await this.pool.query<RowDataPacket[]>(sql, params);
    } catch (err) {
      throw new ImError('RETRIEVAL_ERROR', 'database read failed', { cause: err });
    }
  }

  async #memberships(userId: string): Promise<Membership[]> {
    const [rows] = await this.#query(MEMBERSHIPS, [userId], true);
    return rows.map((r) => ({
      groupId: String(r['group_id']),
      readSeq: Number(r['read_seq']),
      firstSeq: r['first_seq'] === null ? 0 : Number(r['first_seq']),
      lastSeq: r['last_seq'] === null ? 0 : Number(r['last_seq']),
    }));
  }

  /** Up to `fetch` entries above each group's start, in sequence order, one statement per chunk. */
  async #groupRows(
    chunk: { start: number; membership: Membership }[],
    fetch: number,
    now: number,
  ): Promise<Map<string, RowDataPacket[]>> {
    const sql = chunk
      .map(
        () => `(SELECT ${GROUP_COLUMNS} FROM group_messages
          WHERE group_id = ? AND sequence_number > ? AND expires_at > ?
          ORDER BY sequence_number LIMIT ${fetch})`,
      )
      .join(' UNION ALL ');
    const params = chunk.flatMap((s) => [s.membership.groupId, s.start, now]);
    const [rows] = await this.#query(sql, params);
    const out = new Map<string, RowDataPacket[]>();
    for (const r of rows) {
      const id = String(r['group_id']);
      const list = out.get(id) ?? [];
      list.push(r);
      out.set(id, list);
    }
    return out;
  }

  /** Entries in sequence order up to the first hole whose next entry is still settling. */
  #settled(userId: string, rows: RowDataPacket[], start: number, now: number): InboxMessage[] {
    const out: InboxMessage[] = [];
    let prev = start;
    const sorted = rows.map((r) => this.#groupRow(userId, r)).sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    for (const e of sorted) {
      if (e.sequenceNumber !== prev + 1 && e.createdAt > now - this.#settleMs) break;
      out.push(e);
      prev = e.sequenceNumber;
    }
    return out;
  }

  #privateRow(userId: string, r: RowDataPacket): InboxMessage {
    return {
      kind: 'private',
      streamPos: Number(r['id']),
      msgId: String(r['msg_id']),
      senderId: String(r['sender_id']),
      recipientId: userId,
      conversationType: String(r['conversation_type']),
      conversationId: String(r['conversation_id']),
      groupId: undefined,
      sequenceNumber: Number(r['sequence_number']),
      content: r['content'] as Buffer,
      metadata: (r['metadata'] as string | null) ?? null,
      clientTimestamp: Number(r['client_timestamp']),
      createdAt: Number(r['created_at']),
      readAt: r['read_at'] === null ? null : Number(r['read_at']),
    };
  }

  #groupRow(userId: string, r: RowDataPacket): InboxMessage {
    const groupId = String(r['group_id']);
    return {
      kind: 'group',
      streamPos: Number(r['sequence_number']),
      msgId: String(r['msg_id']),
      senderId: String(r['sender_id']),
      recipientId: userId,
      conversationType: 'group',
      conversationId: this.#groupConversationId(groupId),
      groupId,
      sequenceNumber: Number(r['sequence_number']),
      content: r['content'] as Buffer,
      metadata: (r['metadata'] as string | null) ?? null,
      clientTimestamp: Number(r['client_timestamp']),
      createdAt: Number(r['created_at']),
      readAt: null,
    };
  }
}

/** Σ (latest sequence − read position) over the groups (entries before the log's start are gone). */
function groupCount(memberships: readonly Membership[]): number {
  return memberships.reduce((n, m) => (m.lastSeq === 0 ? n : n + Math.max(0, m.lastSeq - Math.max(m.readSeq, m.firstSeq - 1))), 0);
}

/** Heads order: oldest first; ties broken the same way every time. */
function before(a: InboxMessage, b: InboxMessage): boolean {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  if (a.kind !== b.kind) return a.kind === 'private';
  if (a.conversationId !== b.conversationId) return a.conversationId < b.conversationId;
  return a.streamPos < b.streamPos;
}

/** Takes up to `limit` entries, always the oldest head, advancing each stream's position. */
function merge(streams: Stream[], limit: number): InboxMessage[] {
  const out: InboxMessage[] = [];
  while (out.length < limit) {
    let best: Stream | undefined;
    for (const s of streams) {
      const head = s.entries[s.taken];
      if (head && (!best || before(head, best.entries[best.taken] as InboxMessage))) best = s;
    }
    if (!best) break;
    const e = best.entries[best.taken++] as InboxMessage;
    best.pos = e.streamPos;
    out.push(e);
  }
  return out;
}
