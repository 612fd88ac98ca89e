/**
 * Read state in MySQL: an inbox row's `read_at` (set once, by the first read), a
 * member's read position in a group (`group_read_positions.read_seq`, only ever
 * raised), and `read_receipts` — who read which message on which device, unique per
 * (msg_id, reader, device) so a repeated mark is a no-op.
 *
 * Every UPDATE here filters on `read_at IS NULL`, so each matched row changes and
 * affectedRows counts changes whatever the client's FOUND_ROWS flag.
 *
 * Each mark runs in one transaction and hands its outcome to `beforeCommit` while the
 * rows are still locked: the caller publishes the receipt event there, so a failed
 * publish rolls the mark back (the client's retry then publishes again) and two
 * concurrent marks of one message cannot both see themselves as the first read.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ImError } from '../errors';
import type { Pool } from './mysql';

export interface ReceiptTarget {
  readonly msgId: string;
  readonly senderId: string;
  readonly conversationType: string;
  readonly conversationId: string;
  readonly sequenceNumber: number;
}

export interface Receipt {
  readonly readerId: string;
  readonly deviceId: string;
  readonly readAt: number;
}

export interface MessageReadOutcome {
  /** This call recorded the reader's first read of the message. */
  readonly firstRead: boolean;
  /** When the reader first read it (private: the inbox row's read_at). */
  readonly readAt: number;
  /** Group: the reader's read position after the call; private: the message's sequence. */
  readonly readSeq: number;
}

export interface ConversationReadOutcome {
  readonly marked: number;
  /** The newest message marked (highest sequence), if any. */
  readonly newest: ReceiptTarget | undefined;
  readonly markedMsgIds: readonly string[];
}

export type BeforeCommit<O> = (outcome: O) => Promise<void>;

const RECEIPT_INSERT = `INSERT IGNORE INTO read_receipts
  (msg_id, reader_id, sender_id, conversation_type, conversation_id, device_id, read_at, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export class ReceiptStore {
  constructor(
    private readonly pool: Pool,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Marks the reader's inbox copy read (once) and records the device's receipt. */
  markPrivateRead(
    readerId: string,
    msg: ReceiptTarget,
    deviceId: string,
    readAt: number,
    beforeCommit: BeforeCommit<MessageReadOutcome>,
  ): Promise<MessageReadOutcome> {
    return this.#tx(async (c) => {
      const [upd] = await c.query<ResultSetHeader>(
        'UPDATE offline_messages SET read_at = ? WHERE user_id = ? AND msg_id = ? AND read_at IS NULL',
        [readAt, readerId, msg.msgId],
      );
      const [rows] = await c.query<RowDataPacket[]>(
        'SELECT read_at FROM offline_messages WHERE user_id = ? AND msg_id = ? FOR UPDATE',
        [readerId, msg.msgId],
      );
      const stored = rows[0]?.['read_at'];
      if (stored === undefined || stored === null) throw new ImError('NOT_FOUND', 'message not found');
      await this.#insertReceipt(c, readerId, msg, deviceId, readAt);
      const outcome = { firstRead: upd.affectedRows === 1, readAt: Number(stored), readSeq: msg.sequenceNumber };
      await beforeCommit(outcome);
      return outcome;
    });
  }

  /**
   * Raises the reader's position in the group to the message's sequence and records
   * the receipt; the first read is the reader's first receipt for the message.
   */
  markGroupRead(
    readerId: string,
    groupId: string,
    msg: ReceiptTarget,
    deviceId: string,
    readAt: number,
    beforeCommit: BeforeCommit<MessageReadOutcome>,
  ): Promise<MessageReadOutcome> {
    return this.#tx(async (c) => {
      const readSeq = await this.#raisePosition(c, readerId, groupId, msg.sequenceNumber);
      const [prior] = await c.query<RowDataPacket[]>(
        'SELECT MIN(read_at) AS first FROM read_receipts WHERE msg_id = ? AND reader_id = ?',
        [msg.msgId, readerId],
      );
      const first = prior[0]?.['first'];
      await this.#insertReceipt(c, readerId, msg, deviceId, readAt);
      const outcome =
        first === null || first === undefined
          ? { firstRead: true, readAt, readSeq }
          : { firstRead: false, readAt: Number(first), readSeq };
      await beforeCommit(outcome);
      return outcome;
    });
  }

  /**
   * Every unread inbox row of a private conversation up to `upTo` (all when undefined)
   * is read: one UPDATE for the rows, one INSERT … SELECT for their receipts.
   */
  markPrivateConversationRead(
    readerId: string,
    conversationId: string,
    upTo: number | undefined,
    deviceId: string,
    readAt: number,
    beforeCommit: BeforeCommit<ConversationReadOutcome>,
  ): Promise<ConversationReadOutcome> {
    const seqCap = upTo ?? Number.MAX_SAFE_INTEGER;
    return this.#tx(async (c) => {
      const [upd] = await c.query<ResultSetHeader>(
        `UPDATE offline_messages SET read_at = ?
         WHERE user_id = ? AND conversation_id = ? AND sequence_number <= ? AND read_at IS NULL`,
        [readAt, readerId, conversationId, seqCap],
      );
      if (upd.affectedRows === 0) {
        const outcome = { marked: 0, newest: undefined, markedMsgIds: [] };
        await beforeCommit(outcome);
        return outcome;
      }
      const marked = 'FROM offline_messages WHERE user_id = ? AND conversation_id = ? AND sequence_number <= ? AND read_at = ?';
      const markedParams = [readerId, conversationId, seqCap, readAt];
      await c.query(
        `INSERT IGNORE INTO read_receipts
           (msg_id, reader_id, sender_id, conversation_type, conversation_id, device_id, read_at, created_at)
         SELECT msg_id, user_id, sender_id, conversation_type, conversation_id, ?, read_at, ? ${marked}`,
        [deviceId, this.clock(), ...markedParams],
      );
      const [rows] = await c.query<RowDataPacket[]>(
        `SELECT msg_id, sender_id, conversation_type, conversation_id, sequence_number ${marked} ORDER BY sequence_number`,
        markedParams,
      );
      const last = rows[rows.length - 1];
      const outcome: ConversationReadOutcome = {
        marked: upd.affectedRows,
        markedMsgIds: rows.map((r) => String(r['msg_id'])),
        newest: last
          ? {
              msgId: String(last['msg_id']),
              senderId: String(last['sender_id']),
              conversationType: String(last['conversation_type']),
              conversationId: String(last['conversation_id']),
              sequenceNumber: Number(last['sequence_number']),
            }
          : undefined,
      };
      await beforeCommit(outcome);
      return outcome;
    });
  }

  /** Raises the reader's group position to `upTo`, or to the group's latest sequence. */
  markGroupConversationRead(readerId: string, groupId: string, upTo: number | undefined): Promise<number> {
    return this.#tx(async (c) => {
      const [rows] = await c.query<RowDataPacket[]>(
        'SELECT COALESCE(MAX(sequence_number), 0) AS last FROM group_messages WHERE group_id = ?',
        [groupId],
      );
      const last = Number(rows[0]?.['last'] ?? 0);
      // Never past the log's end: a position ahead of it would hide messages still to come.
      return this.#raisePosition(c, readerId, groupId, Math.min(upTo ?? last, last));
    });
  }

  /** Receipts of a message, oldest first, at most `max`; and how many readers in all. */
  async list(msgId: string, max: number): Promise<{ receipts: Receipt[]; readers: number; truncated: boolean }> {
    return this.#read(async () => {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        `SELECT reader_id, device_id, read_at FROM read_receipts WHERE msg_id = ?
         ORDER BY read_at, reader_id, device_id LIMIT ${Math.trunc(max) + 1}`,
        [msgId],
      );
      const [count] = await this.pool.query<RowDataPacket[]>(
        'SELECT COUNT(DISTINCT reader_id) AS n FROM read_receipts WHERE msg_id = ?',
        [msgId],
      );
      return {
        receipts: rows.slice(0, max).map((r) => ({
          readerId: String(r['reader_id']),
          deviceId: String(r['device_id']),
          readAt: Number(r['read_at']),
        })),
        readers: Number(count[0]?.['n'] ?? 0),
        truncated: rows.length > max,
      };
    });
  }

  /** A receipt row naming `senderId` as the sender: proof of authorship outliving the inbox copies. */
  async findBySender(senderId: string, msgId: string): Promise<ReceiptTarget | undefined> {
    return this.#read(async () => {
      const [rows] = await this.pool.query<RowDataPacket[]>(
        `SELECT msg_id, sender_id, conversation_type, conversation_id FROM read_receipts
         WHERE msg_id = ? AND sender_id = ? LIMIT 1`,
        [msgId, senderId],
      );
      const r = rows[0];
      return r
        ? {
            msgId: String(r['msg_id']),
            senderId: String(r['sender_id']),
            conversationType: String(r['conversation_type']),
            conversationId: String(r['conversation_id']),
            sequenceNumber: 0,
          }
        : undefined;
    });
  }

  async #raisePosition(c: PoolConnection, userId: string, groupId: string, seq: number): Promise<number> {
    // updated_at is assigned first, so it compares against the old read_seq.
    await c.query(
      `INSERT INTO group_read_positions (user_id, group_id, read_seq, updated_at) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE updated_at = IF(VALUES(read_seq) > read_seq, VALUES(updated_at), updated_at),
         read_seq = GREATEST(read_seq, VALUES(read_seq))`,
      [userId, groupId, seq, this.clock()],
    );
    const [rows] = await c.query<RowDataPacket[]>(
      'SELECT read_seq FROM group_read_positions WHERE user_id = ? AND group_id = ?',
      [userId, groupId],
    );
    return Number(rows[0]?.['read_seq'] ?? seq);
  }

  async #insertReceipt(c: PoolConnection, readerId: string, msg: ReceiptTarget, deviceId: string, readAt: number) {
    await c.query(RECEIPT_INSERT, [
      msg.msgId,
      readerId,
      msg.senderId,
      msg.conversationType,
      msg.conversationId,
      deviceId,
      readAt,
      this.clock(),
    ]);
  }

  async #tx<T>(work: (c: PoolConnection) => Promise<T>): Promise<T> {
    let c: PoolConnection;
    try {
      c = await this.pool.getConnection();
    } catch (err) {
      throw new ImError('STORAGE_ERROR', 'database unavailable', { cause: err });
    }
    try {
      await c.beginTransaction();
      const out = await work(c);
      await c.commit();
      return out;
    } catch (err) {
      await c.rollback().catch(() => undefined);
      if (err instanceof ImError) throw err;
      throw new ImError('STORAGE_ERROR', 'database write failed', { cause: err });
    } finally {
      c.release();
    }
  }

  async #read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ImError) throw err;
      throw new ImError('RETRIEVAL_ERROR', 'database read failed', { cause: err });
    }
  }
}
