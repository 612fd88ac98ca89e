/**
 * persist-offline's batch handler: decode and validate each offline_msg record, write
 * the batch to the inbox idempotently, then publish the OFFLINE_PUSH tasks — all before
 * BatchConsumer commits the offsets. A crash after the push and before the commit
 * repeats the batch: its rows are then duplicates (no-ops) and its notifications are
 * sent again, which is the accepted price of never losing one. Records that can never
 * be stored are returned as failures (dead-lettered).
 *
 * Batches in hand at the same time — the consecutive batches of a partition that
 * BatchConsumer keeps in flight, and those of other partitions — are group-committed
 * (group-commit.ts): the batches waiting while a group is in flight form the next one,
 * one transaction for all their rows, then one produce request for their push tasks
 * (one per recipient per transaction; a recipient's records share a partition). Each
 * batch resolves only once its rows are durable and its tasks are published.
 */
import { decodeEvent } from '../../shared/bus/codec';
import type { BatchHandler, ConsumedRecord, RecordFailure } from '../../shared/bus/consumed-record';
import type { OfflineMessage, OfflinePushTask } from '../../shared/gen/im/events/v1/events';
import { asImError, type ImError } from '../../shared/errors';
import type { Metrics } from '../../shared/observability/metrics';
import type { OfflineMessageRow, OfflineMessageStore } from '../../shared/storage/offline-messages';
import { GroupCommit } from './group-commit';
import { buildPushTasks } from './push-tasks';
import { toOfflineRow } from './rows';

export const OFFLINE_MESSAGE_SCHEMA = 'im.events.v1.OfflineMessage' as const;

/** Rows per group transaction: a few default batches, about one statement (2000 rows). */
export const DEFAULT_GROUP_ROWS = 2000;

/**
 * Group transactions in flight at once (OFFLINE_WRITES_IN_FLIGHT). Two keep the database
 * busy while the consumer prepares the next statement, and let the push tasks of two
 * transactions that finish together share one produce (docs/persist-offline.md,
 * benchmark). Their lock conflicts (deadlocks on duplicates) are re-run by the store at once.
 */
export const DEFAULT_WRITES_IN_FLIGHT = 2;

export interface PushTaskSink {
  /** Publishes durably or throws a retryable ImError (KAFKA_ERROR). */
  send(tasks: readonly OfflinePushTask[]): Promise<void>;
}

export interface PersistOfflineDeps {
  readonly store: Pick<OfflineMessageStore, 'write'> & Partial<Pick<OfflineMessageStore, 'lockRetries'>>;
  /** Absent when PUSH_NOTIFICATION_ENABLED is false. */
  readonly pushes?: PushTaskSink;
  readonly ttlMs: number;
  readonly metrics?: Pick<Metrics, 'offlineStored' | 'duplicatesSkipped'>;
  readonly clock?: () => number;
  /** Rows a group transaction gathers at most (whole batches; default DEFAULT_GROUP_ROWS). */
  readonly maxGroupRows?: number;
  /** Group transactions in flight at once (default DEFAULT_WRITES_IN_FLIGHT). */
  readonly writesInFlight?: number;
}

/** One batch's valid records: rows, the events they came from, and their records. */
interface Accepted {
  readonly rows: OfflineMessageRow[];
  readonly events: OfflineMessage[];
  readonly records: ConsumedRecord[];
}

/** The rows the database refused for their content (of the whole group). */
type Refused = ReadonlyMap<OfflineMessageRow, ImError>;

const NONE: Refused = new Map();

export interface PersistOfflineHandler extends BatchHandler {
  /** Group commit figures: transactions and produce requests, and the batches they carried. */
  stats(): Record<string, number>;
}

export function createPersistOfflineHandler(deps: PersistOfflineDeps): PersistOfflineHandler {
  const clock = deps.clock ?? Date.now;
  const sink = deps.pushes;
  let pushTasks = 0;
  // Stage 1: the group transactions, DEFAULT_WRITES_IN_FLIGHT at a time; stage 2, the
  // push tasks of those that finished, runs meanwhile. A transaction's batches resolve
  // only once those of the transactions started before it have (written or failed): push
  // tasks then leave in write order, so a recipient's tasks follow its offsets.
  // (Commits follow offset order anyway: BatchConsumer commits a partition's batches in
  // order, whichever transaction wrote them.)
  let earlier: Promise<void> = Promise.resolve();
  const writes = new GroupCommit<Accepted, Refused>(
    async (batches) => {
      const rows = batches.length === 1 ? (batches[0] as Accepted).rows : batches.flatMap((b) => b.rows);
      const before = earlier;
      const written = deps.store.write(rows);
      earlier = written.then(
        () => before,
        () => before,
      );
      const outcome = await written;
      await before;
      deps.metrics?.offlineStored.inc(outcome.inserted);
      deps.metrics?.duplicatesSkipped.inc(outcome.duplicates);
      const refused = outcome.rejected.length === 0 ? NONE : new Map(outcome.rejected.map((r) => [r.row, r.error] as const));
      return batches.map(() => refused);
    },
    { concurrency: deps.writesInFlight ?? DEFAULT_WRITES_IN_FLIGHT, maxWeight: deps.maxGroupRows ?? DEFAULT_GROUP_ROWS, weight: (b) => b.rows.length },
  );
  const pushes = sink
    ? new GroupCommit<readonly OfflineMessage[], void>(async (stored) => {
        // One task per recipient per group (a recipient's records share a partition).
        const tasks = buildPushTasks(stored.length === 1 ? (stored[0] as readonly OfflineMessage[]) : stored.flat(), clock());
        pushTasks += tasks.length;
        if (tasks.length > 0) await sink.send(tasks);
        return stored.map(() => undefined);
      })
    : undefined;

  const handler: BatchHandler = async (records) => {
    const failed: RecordFailure[] = [];
    const batch: Accepted = { rows: [], events: [], records: [] };
    for (const record of records) {
      try {
        const event = decodeEvent(OFFLINE_MESSAGE_SCHEMA, record.value, record.headers);
        batch.rows.push(toOfflineRow(event, deps.ttlMs, record.timestamp || clock(), record.value ?? undefined));
        batch.events.push(event);
        batch.records.push(record);
      } catch (err) {
        failed.push({ record, error: asImError(err, 'INVALID_PAYLOAD') });
      }
    }
    if (batch.rows.length === 0) return { failed };
    const refused = await writes.submit(batch);
    let stored = batch.events;
    if (refused.size > 0) {
      stored = [];
      batch.rows.forEach((row, i) => {
        const error = refused.get(row);
        if (error) failed.push({ record: batch.records[i] as ConsumedRecord, error });
        else stored.push(batch.events[i] as OfflineMessage);
      });
    }
    if (pushes && stored.length > 0) await pushes.submit(stored);
    return { failed };
  };
  return Object.assign(handler, {
    stats() {
      const w = writes.stats();
      const p = pushes?.stats();
      return {
        writeGroups: w.groups,
        writeGroupBatches: w.inputs,
        writeLockRetries: deps.store.lockRetries ?? 0,
        ...(p ? { pushGroups: p.groups, pushTasks } : {}),
      };
    },
  });
}
