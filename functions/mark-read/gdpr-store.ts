/**
 * The SQL of GDPR erasure and export. Erasure deletes, in one transaction, exactly
 * what the caller's role gives them: as recipient their inbox copy and their receipts;
 * as sender every inbox copy, the group log entry and every receipt. Export streams
 * every row the caller sent or received straight from the server (mysql2 row
 * streams, pulled as the HTTP client reads), so memory does not grow with the data.
 */
import type { Readable } from 'node:stream';
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ImError } from '../../shared/errors';
import type { Pool } from '../../shared/storage/mysql';

export interface ErasureRights {
  /** The caller has an inbox copy. */
  readonly recipient: boolean;
  /** The caller sent it (private copies in others' inboxes, or a group log entry). */
  readonly author: boolean;
}

export interface ErasedRows {
  readonly inboxRows: number;
  readonly groupLogRows: number;
  readonly receipts: number;
}

/** One export row kind and the query that yields it. */
export type ExportRowKind = 'received' | 'sent' | 'group-sent' | 'group-received' | 'receipt';

const EXPORT_QUERIES: Record<ExportRowKind, string> = {
  received: `SELECT msg_id, sender_id, user_id AS recipient_id, conversation_type, conversation_id, sequence_number,
      content, client_timestamp, created_at, read_at FROM offline_messages WHERE user_id = ?`,
  sent: `SELECT msg_id, sender_id, user_id AS recipient_id, conversation_type, conversation_id, sequence_number,
      content, client_timestamp, created_at, read_at FROM offline_messages WHERE sender_id = ?`,
  'group-sent': `SELECT msg_id, sender_id, group_id, sequence_number, content, client_timestamp, created_at
      FROM group_messages WHERE sender_id = ?`,
  // Messages of the caller's groups since they joined, other than their own.
  'group-received': `SELECT g.msg_id, g.sender_id, g.group_id, g.sequence_number, g.content, g.client_timestamp, g.created_at
      FROM group_members m JOIN group_messages g ON g.group_id = m.group_id
      WHERE m.user_id = ? AND g.sender_id <> m.user_id AND g.created_at >= m.joined_at`,
  receipt: `SELECT msg_id, sender_id, conversation_id, device_id, read_at FROM read_receipts WHERE reader_id = ?`,
};

/**
 * The callback connection under a promise PoolConnection (mysql2's typings call it a
 * promise Connection; at run time it is the core one, whose queries can stream).
 */
interface StreamingConnection {
  query(sql: string, values: unknown[]): { stream(options: { highWaterMark: number }): Readable };
}

export class GdprStore {
  constructor(private readonly pool: Pool) {}

  async erase(caller: string, msgId: string, rights: ErasureRights): Promise<ErasedRows> {
    let c: PoolConnection;
    try {
      c = await this.pool.getConnection();
    } catch (err) {
      throw new ImError('STORAGE_ERROR', 'database unavailable', { cause: err });
    }
    const del = async (sql: string, params: unknown[]): Promise<number> => {
      const [r] = await c.query<ResultSetHeader>(sql, params);
      return r.affectedRows;
    };
    try {
      await c.beginTransaction();
      let inboxRows = 0;
      let groupLogRows = 0;
      if (rights.recipient) inboxRows += await del('DELETE FROM offline_messages WHERE user_id = ? AND msg_id = ?', [caller, msgId]);
      if (rights.author) {
        inboxRows += await del('DELETE FROM offline_messages WHERE sender_id = ? AND msg_id = ?', [caller, msgId]);
        groupLogRows += await del('DELETE FROM group_messages WHERE msg_id = ? AND sender_id = ?', [msgId, caller]);
      }
      const receipts = rights.author
        ? await del('DELETE FROM read_receipts WHERE msg_id = ?', [msgId])
        : await del('DELETE FROM read_receipts WHERE msg_id = ? AND reader_id = ?', [msgId, caller]);
      await c.commit();
      return { inboxRows, groupLogRows, receipts };
    } catch (err) {
      await c.rollback().catch(() => undefined);
      throw new ImError('STORAGE_ERROR', 'database write failed', { cause: err });
    } finally {
      c.release();
    }
  }

  /**
   * Runs `consume` with a row source per kind on one dedicated connection. Rows are
   * pulled from the server as `consume` iterates (backpressure through the socket);
   * the connection is destroyed, not pooled, if iteration stops early or fails.
   */
  async withExport<T>(
    caller: string,
    consume: (rows: (kind: ExportRowKind) => AsyncIterable<RowDataPacket>) => Promise<T>,
  ): Promise<T> {
    let c: PoolConnection;
    try {
      c = await this.pool.getConnection();
    } catch (err) {
      throw new ImError('RETRIEVAL_ERROR', 'database unavailable', { cause: err });
    }
    let clean = false;
    try {
      const out = await consume((kind) => this.#rows(c, kind, caller));
      clean = true;
      return out;
    } finally {
      if (clean) c.release();
      else c.destroy();
    }
  }

  async *#rows(c: PoolConnection, kind: ExportRowKind, caller: string): AsyncIterable<RowDataPacket> {
    const core = c.connection as unknown as StreamingConnection;
    const stream = core.query(EXPORT_QUERIES[kind], [caller]).stream({ highWaterMark: 64 });
    try {
      for await (const row of stream) yield row as RowDataPacket;
    } catch (err) {
      if (err instanceof ImError) throw err;
      throw new ImError('RETRIEVAL_ERROR', 'database read failed', { cause: err });
    } finally {
      stream.destroy();
    }
  }
}
