/**
 * persist-offline's batch handler: decode and validate each offline_msg record, write
 * the batch to the inbox in one idempotent statement, then publish the OFFLINE_PUSH
 * tasks — all before BatchConsumer commits the offsets. A crash after the push and
 * before the commit repeats the batch: its rows are then duplicates (no-ops) and its
 * notifications are sent again, which is the accepted price of never losing one.
 * Records that can never be stored are returned as failures (dead-lettered).
 */
import { decodeEvent } from '../../shared/bus/codec';
import type { BatchHandler, ConsumedRecord, RecordFailure } from '../../shared/bus/consumed-record';
import type { OfflineMessage, OfflinePushTask } from '../../shared/gen/im/events/v1/events';
import { asImError } from '../../shared/errors';
import type { Metrics } from '../../shared/observability/metrics';
import type { OfflineMessageRow, OfflineMessageStore } from '../../shared/storage/offline-messages';
import { buildPushTasks } from './push-tasks';
import { toOfflineRow } from './rows';

export const OFFLINE_MESSAGE_SCHEMA = 'im.events.v1.OfflineMessage' as const;

export interface PushTaskSink {
  /** Publishes durably or throws a retryable ImError (KAFKA_ERROR). */
  send(tasks: readonly OfflinePushTask[]): Promise<void>;
}

export interface PersistOfflineDeps {
  readonly store: Pick<OfflineMessageStore, 'write'>;
  /** Absent when PUSH_NOTIFICATION_ENABLED is false. */
  readonly pushes?: PushTaskSink;
  readonly ttlMs: number;
  readonly metrics?: Pick<Metrics, 'offlineStored' | 'duplicatesSkipped'>;
  readonly clock?: () => number;
}

interface Accepted {
  readonly record: ConsumedRecord;
  readonly event: OfflineMessage;
  readonly row: OfflineMessageRow;
}

export function createPersistOfflineHandler(deps: PersistOfflineDeps): BatchHandler {
  const clock = deps.clock ?? Date.now;
  return async (records) => {
    const failed: RecordFailure[] = [];
    const accepted: Accepted[] = [];
    for (const record of records) {
      try {
        const event = decodeEvent(OFFLINE_MESSAGE_SCHEMA, record.value, record.headers);
        accepted.push({ record, event, row: toOfflineRow(event, deps.ttlMs, record.timestamp || clock()) });
      } catch (err) {
        failed.push({ record, error: asImError(err, 'INVALID_PAYLOAD') });
      }
    }
    const outcome = await deps.store.write(accepted.map((a) => a.row));
    const rejected = new Map(outcome.rejected.map((r) => [r.row, r.error] as const));
    for (const a of accepted) {
      const error = rejected.get(a.row);
      if (error) failed.push({ record: a.record, error });
    }
    deps.metrics?.offlineStored.inc(outcome.inserted);
    deps.metrics?.duplicatesSkipped.inc(outcome.duplicates);
    if (deps.pushes) {
      const stored = accepted.filter((a) => !rejected.has(a.row)).map((a) => a.event);
      await deps.pushes.send(buildPushTasks(stored, clock()));
    }
    return { failed };
  };
}
