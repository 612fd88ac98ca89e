/**
 * Helpers for the mark-read tests: a host serving the function on a loopback port, a
 * fetch-based client, tokens, and inbox / group-log rows written straight with SQL
 * (random user and group ids per test, so concurrent runs never meet).
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { JwtAuth } from '../../../shared/auth/jwt';
import { Content } from '../../../shared/gen/im/events/v1/events';
import type { Host } from '../../../shared/runtime/host';
import { groupConversationId, privateConversationId } from '../../../shared/sequence/conversation-id';
import type { Pool } from '../../../shared/storage/mysql';
import { markRead } from '../../../functions/mark-read/function';
import { OpenApi } from '../../../functions/mark-read/openapi';
import { startTestHost, testConfig, uid } from '../../support/env';

export const DAY_MS = 86_400_000;
export const openapi = new OpenApi();

export interface Reply {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export class ApiClient {
  readonly auth = new JwtAuth(testConfig().auth);

  constructor(readonly base: string) {}

  token(userId: string): Promise<string> {
    return this.auth.sign(userId);
  }

  async call(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  }

  /** Calls as `userId` and checks the reply against the OpenAPI document. */
  async as(userId: string, operationId: string, method: string, path: string, body?: unknown): Promise<Reply> {
    const r = await this.call(method, path, { token: await this.token(userId), body });
    const problem = openapi.checkResponse(operationId, r.status, r.body);
    if (problem) throw new Error(`${method} ${path} -> ${r.status} ${r.text.slice(0, 300)}: ${problem}`);
    return r;
  }
}

export async function startMarkRead(env: Record<string, string> = {}): Promise<{ host: Host; api: ApiClient; pool: Pool }> {
  const host = await startTestHost([markRead], env);
  return { host, api: new ApiClient(`http://127.0.0.1:${host.httpPort}`), pool: host.deps.mysql() };
}

export const contentBytes = (text: string): Buffer => Buffer.from(Content.encode({ body: { $case: 'text', value: text } }).finish());

export interface InboxRowSpec {
  userId: string;
  senderId: string;
  msgId?: string;
  sequenceNumber: number;
  text?: string;
  createdAt?: number;
  readAt?: number | null;
}

/** Multi-row INSERT of inbox rows, in the order given (ids increase in that order). */
export async function insertInbox(pool: Pool, rows: InboxRowSpec[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const now = Date.now();
  const ids = rows.map((r) => r.msgId ?? uid('m'));
  const values = rows.map((r, i) => [
    r.userId,
    ids[i],
    r.senderId,
    'private',
    privateConversationId(r.userId, r.senderId),
    r.sequenceNumber,
    contentBytes(r.text ?? `hello ${r.sequenceNumber}`),
    JSON.stringify({ k: 'v' }),
    (r.createdAt ?? now) - 5,
    r.createdAt ?? now,
    (r.createdAt ?? now) + 7 * DAY_MS,
    r.readAt ?? null,
  ]);
  await pool.query(
    `INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id, sequence_number,
       content, metadata, client_timestamp, created_at, expires_at, read_at) VALUES ?`,
    [values],
  );
  return ids as string[];
}

/** A conversation of `n` messages from `senderId` to `userId`, sequences from `fromSeq`. */
export function conversation(userId: string, senderId: string, n: number, fromSeq = 1, createdAt?: number): InboxRowSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    userId,
    senderId,
    sequenceNumber: fromSeq + i,
    text: `message ${fromSeq + i} to ${userId}`,
    createdAt,
  }));
}

export async function createGroup(pool: Pool, members: string[], joinedAt = Date.now() - DAY_MS): Promise<string> {
  const groupId = uid('grp');
  const now = Date.now();
  await pool.query(
    'INSERT INTO `groups` (group_id, name, creator_id, member_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
    [groupId, groupId, members[0], members.length, now, now],
  );
  await pool.query('INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES ?', [
    members.map((m, i) => [groupId, m, i === 0 ? 'owner' : 'member', joinedAt]),
  ]);
  return groupId;
}

export interface GroupRowSpec {
  groupId: string;
  senderId: string;
  sequenceNumber: number;
  msgId?: string;
  createdAt?: number;
}

export async function insertGroupLog(pool: Pool, rows: GroupRowSpec[]): Promise<string[]> {
  const now = Date.now();
  const ids = rows.map((r) => r.msgId ?? uid('gm'));
  await pool.query(
    `INSERT INTO group_messages (group_id, sequence_number, msg_id, sender_id, content, metadata, client_timestamp,
       created_at, expires_at) VALUES ?`,
    [
      rows.map((r, i) => [
        r.groupId,
        r.sequenceNumber,
        ids[i],
        r.senderId,
        contentBytes(`group ${r.groupId} #${r.sequenceNumber}`),
        null,
        (r.createdAt ?? now) - 5,
        r.createdAt ?? now,
        (r.createdAt ?? now) + 7 * DAY_MS,
      ]),
    ],
  );
  return ids as string[];
}

export const groupConv = groupConversationId;
export const privateConv = privateConversationId;

/** A fingerprint of everything stored for these users (inbox, receipts, positions). */
export async function snapshot(pool: Pool, users: string[]): Promise<string> {
  const q = async (sql: string): Promise<RowDataPacket[]> => (await pool.query<RowDataPacket[]>(sql, [users, users]))[0];
  const inbox = await q(
    'SELECT user_id, msg_id, read_at FROM offline_messages WHERE user_id IN (?) OR sender_id IN (?) ORDER BY user_id, msg_id',
  );
  const receipts = await q(
    'SELECT msg_id, reader_id, device_id, read_at FROM read_receipts WHERE reader_id IN (?) OR sender_id IN (?) ORDER BY msg_id, reader_id, device_id',
  );
  const positions = await q(
    'SELECT user_id, group_id, read_seq FROM group_read_positions WHERE user_id IN (?) OR user_id IN (?) ORDER BY user_id, group_id',
  );
  const log = await q('SELECT msg_id FROM group_messages WHERE sender_id IN (?) OR sender_id IN (?) ORDER BY msg_id');
  return JSON.stringify({ inbox, receipts, positions, log });
}

export const affected = (r: unknown): number => (r as ResultSetHeader).affectedRows;
