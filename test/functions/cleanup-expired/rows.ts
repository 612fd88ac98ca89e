/** Row builders for cleanup tests: each table's rows with the instants a test chooses. */
import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from '../../../shared/storage/mysql';
import { uid } from '../../support/env';

export async function inboxRow(pool: Pool, expiresAt: number, userId = uid('u')): Promise<string> {
  const msgId = uid('m');
  await pool.query(
    `INSERT INTO offline_messages (user_id, msg_id, sender_id, conversation_type, conversation_id,
       sequence_number, content, created_at, expires_at) VALUES (?, ?, 's', 'private', 'c', 1, X'00', ?, ?)`,
    [userId, msgId, expiresAt - 1000, expiresAt],
  );
  return msgId;
}

export async function groupLogRow(pool: Pool, expiresAt: number, groupId = uid('g')): Promise<string> {
  const msgId = uid('m');
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT COALESCE(MAX(sequence_number), 0) + 1 AS seq FROM group_messages WHERE group_id = ?',
    [groupId],
  );
  await pool.query(
    `INSERT INTO group_messages (group_id, sequence_number, msg_id, sender_id, content, created_at, expires_at)
     VALUES (?, ?, ?, 's', X'00', ?, ?)`,
    [groupId, rows[0]?.['seq'], msgId, expiresAt - 1000, expiresAt],
  );
  return msgId;
}

export async function receiptRow(pool: Pool, createdAt: number): Promise<string> {
  const msgId = uid('m');
  await pool.query(
    `INSERT INTO read_receipts (msg_id, reader_id, sender_id, conversation_type, conversation_id, read_at, created_at)
     VALUES (?, 'r', 's', 'private', 'c', ?, ?)`,
    [msgId, createdAt, createdAt],
  );
  return msgId;
}

export async function positionRow(pool: Pool, userId: string, groupId: string, updatedAt: number, member: boolean) {
  await pool.query('INSERT INTO group_read_positions (user_id, group_id, read_seq, updated_at) VALUES (?, ?, 5, ?)', [
    userId,
    groupId,
    updatedAt,
  ]);
  if (member) {
    await pool.query('INSERT INTO group_members (group_id, user_id, joined_at) VALUES (?, ?, ?)', [
      groupId,
      userId,
      updatedAt,
    ]);
  }
}

export async function reservationRow(pool: Pool, conversationId: string, updatedAt: number): Promise<void> {
  await pool.query('INSERT INTO sequence_reservations (conversation_id, reserved_until, updated_at) VALUES (?, 100, ?)', [
    conversationId,
    updatedAt,
  ]);
}

export const msgIds = async (pool: Pool, table: 'offline_messages' | 'group_messages' | 'read_receipts') => {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT msg_id FROM ${table} ORDER BY msg_id`);
  return rows.map((r) => r['msg_id'] as string).sort();
};

export const count = async (pool: Pool, table: string): Promise<number> => {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(rows[0]?.['n']);
};
