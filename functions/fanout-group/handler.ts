/**
 * fanout-group's batch handler (the im-task job), for BatchConsumer on group_msg:
 *   decode → write the batch to the group log (idempotent by msg_id) → deliver to the
 *   members' online devices (fanout.ts) → publish OFFLINE_PUSH tasks for the others →
 *   resolve, and only then does BatchConsumer commit the offsets.
 * A crash anywhere repeats the batch: the log rows are then no-ops and pushes repeat
 * (envelopes carry msg_id and sequence; clients drop repeats). Records that can never be
 * processed are returned as failures (dead-lettered), the rest go on.
 */
import type { BatchHandler, ConsumedRecord, RecordFailure } from '../../shared/bus/consumed-record';
import { asImError, type ImError } from '../../shared/errors';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';
import type { GroupLog } from '../../shared/storage/group-log';
import { fanOut, type FanoutPorts, type FanoutReport } from './fanout';
import { prepareMessage, type ContentOpener, type PreparedMessage } from './message';
import { PushTaskBuffer, type PushTaskSink } from './push-tasks';

/**
 * Rounds' worth of offline members whose OFFLINE_PUSH tasks wait while pushes go out
 * (push-tasks.ts): 100,000 at FANOUT_BATCH_SIZE 500, a few MB.
 */
const TASK_HOLD_ROUNDS = 200;

export interface FanoutGroupDeps {
  readonly log: Pick<GroupLog, 'append'>;
  readonly opener: ContentOpener;
  readonly fanout: FanoutPorts;
  /** Absent when PUSH_NOTIFICATION_ENABLED is false. */
  readonly tasks?: PushTaskSink;
  readonly ttlMs: number;
  /** MESSAGE_RETRY_ATTEMPTS: after this many failed tries a registry outage no longer fails the batch. */
  readonly retryAttempts: number;
  readonly metrics?: Pick<Metrics, 'fanoutDuration'>;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Called with each batch's report (stats, tests). */
  readonly onReport?: (report: FanoutReport & { messages: number; tasks: number; ms: number }) => void;
}

export function createFanoutGroupHandler(deps: FanoutGroupDeps): BatchHandler {
  const clock = deps.clock ?? Date.now;
  return async (records, ctx) => {
    const failed: RecordFailure[] = [];
    const seen = new Set<string>();
    let prepared: PreparedMessage[] = [];
    for (const record of records) {
      try {
        const m = await prepareMessage(record, deps.opener, deps.ttlMs, record.timestamp || clock());
        // A record Kafka delivered twice in one batch (producer retry) is fanned out once.
        if (seen.has(m.event.msgId)) continue;
        seen.add(m.event.msgId);
        prepared.push(m);
      } catch (err) {
        const e = asImError(err, 'INVALID_PAYLOAD');
        if (e.retryable) throw e;
        failed.push({ record, error: e });
      }
    }
    if (prepared.length === 0) return { failed };

    const started = clock();
    prepared = await appendIsolating(deps.log, prepared, failed);
    const { pageSize } = deps.fanout.settings;
    const tasks = new PushTaskBuffer(deps.tasks, pageSize, clock, pageSize * TASK_HOLD_ROUNDS);
    const report = await fanOut(deps.fanout, prepared, tasks, {
      signal: ctx.signal,
      onRegistryError: ctx.attempt > deps.retryAttempts ? 'skip' : 'throw',
    });
    await tasks.drain();
    const ms = clock() - started;
    deps.metrics?.fanoutDuration.observe(ms);
    deps.onReport?.({ ...report, messages: prepared.length, tasks: tasks.count, ms });
    deps.logger.debug({ ...report, messages: prepared.length, tasks: tasks.count, ms }, 'group batch fanned out');
    return { failed };
  };
}

/**
 * Writes the batch in one statement; if the database refuses a row's content, writes
 * one by one so only the refused rows fail (and are not fanned out).
 */
async function appendIsolating(
  log: Pick<GroupLog, 'append'>,
  prepared: PreparedMessage[],
  failed: RecordFailure[],
): Promise<PreparedMessage[]> {
  try {
    await log.append(prepared.map((m) => m.entry));
    return prepared;
  } catch (err) {
    const e = asImError(err, 'STORAGE_ERROR');
    if (e.retryable || prepared.length === 1) {
      if (!e.retryable) failed.push(failure((prepared[0] as PreparedMessage).record, e));
      if (e.retryable) throw e;
      return [];
    }
  }
  const kept: PreparedMessage[] = [];
  for (const m of prepared) {
    try {
      await log.append([m.entry]);
      kept.push(m);
    } catch (err) {
      const e = asImError(err, 'STORAGE_ERROR');
      if (e.retryable) throw e;
      failed.push(failure(m.record, e));
    }
  }
  return kept;
}

const failure = (record: ConsumedRecord, error: ImError): RecordFailure => ({ record, error });
