/**
 * A reusable Kafka consumer worker for "process a batch, then commit exactly what is
 * durable" (persist-offline on offline_msg, fanout-group on group_msg).
 *
 * Protocol, per partition, for each batch of at most BATCH_SIZE records:
 *   handler(records) → dead-letter what it reported as poison → commit last+1 → next.
 * - kafkajs runs with autoCommit off and eachBatchAutoResolve off: the only commits are
 *   the explicit ones above, made after the handler resolved, so a crash at any point
 *   redelivers (never skips) records; handlers are idempotent, so redelivery is harmless.
 * - A batch's commit is pipelined with the next batch: the next handler call starts
 *   while the commit is in flight (the commit only ever covers batches whose handler
 *   resolved), and the partition's work ends — returning to kafkajs, pausing, throwing
 *   for a rebalance — only once its commits are done. Commits of all partitions are
 *   coalesced into one OffsetCommit request per round (offset-commits.ts).
 * - Batching: the fetch itself waits at the broker (minBytes ≈ BATCH_SIZE records,
 *   maxWaitTimeInMs = BATCH_TIMEOUT), and what a fetch returns is cut into batches of
 *   BATCH_SIZE. No client-side buffer outlives a fetch, so rebalances, pauses and seeks
 *   need no bookkeeping (see docs/persist-offline.md for the trade-off).
 * - A transient failure (retryable ImError, or any unknown error) is retried with the
 *   RETRY_BACKOFF schedule (jittered, interrupted by stop()); after MAX_RETRIES the
 *   partition is paused — nothing committed past the batch — and resumed after the last
 *   backoff step, when the batch is fetched again. Nothing is dead-lettered for it.
 * - A non-retryable ImError is poison: the batch is bisected to find the record(s), they
 *   go to the dead-letter topic with their origin, and the partition keeps moving.
 * - Heartbeats continue while a handler or a backoff sleep runs; a rebalance noticed
 *   meanwhile ends the batch after its commit (allowed in the old generation while the
 *   group prepares to rebalance) and lets kafkajs rejoin.
 */
import { setMaxListeners } from 'node:events';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { ImError, asImError, isImError, kafkaDisposition } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { TimeoutError, sleep, withTimeout } from '../runtime/timeout';
import type { Worker } from '../runtime/types';
import type { Admin } from './kafka';
import { retryDelay } from './backoff';
import { chunk, fetchMinBytes, lagOf, offsetAfter } from './batching';
import type { BatchContext, BatchHandler, BatchResult, ConsumedRecord, RecordFailure } from './consumed-record';
import type { DeadLetterPublisher } from './dead-letter';
import { isolate } from './isolate';
import { LagReporter } from './consumer-lag';
import { OffsetCommits, type SendCommit } from './offset-commits';

export interface BatchConsumerOptions {
  /** Worker name; also the `consumer` label of batch metrics. */
  readonly name: string;
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topic: string;
  readonly handler: BatchHandler;
  readonly deadLetters: Pick<DeadLetterPublisher, 'publish' | 'topic'>;
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'batchSize' | 'batchLatency' | 'deadLettered' | 'consumerLag' | 'errors'>;
  readonly batchSize: number;
  readonly batchTimeoutMs: number;
  readonly retryBackoffMs: readonly number[];
  readonly maxRetries: number;
  readonly sessionTimeoutMs: number;
  /** How long a partition stays paused after its retries ran out (default: last backoff step). */
  readonly pauseMs?: number;
  /** Partitions whose batches run at the same time (kafkajs partitionsConsumedConcurrently). */
  readonly partitionsConcurrently?: number;
  /**
   * Batches of one partition handed to the handler before the first of them resolved
   * (default 1). Above 1 the handler sees consecutive batches at once (and may write
   * them together); commits still follow offset order and cover only resolved batches.
   */
  readonly batchesInFlight?: number;
  /** Estimated bytes per record, to turn BATCH_SIZE into the fetch's minBytes. */
  readonly bytesPerRecord?: number;
  readonly maxBytesPerPartition?: number;
  /** A new group starts at the earliest offset (default), so nothing produced before it is skipped. */
  readonly fromBeginning?: boolean;
  /** Periodic lag from committed offsets (optional; batches update lag anyway). */
  readonly admin?: () => Promise<Admin>;
  readonly lagIntervalMs?: number;
  /**
   * Longest a handler call may take before it counts as a transient failure (its work may
   * still complete in the background; handlers are idempotent). Default 60 s.
   */
  readonly handlerTimeoutMs?: number;
  /** Budget for stop(): finish the batch in flight and leave the group. */
  readonly stopTimeoutMs?: number;
  readonly random?: () => number;
  /** More figures for stats() (e.g. the handler's own batching). */
  readonly extraStats?: () => Record<string, unknown>;
}

type ChunkOutcome = 'done' | 'retries-exhausted' | 'abandoned';

export class BatchConsumer implements Worker {
  readonly name: string;
  readonly #o: BatchConsumerOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #lag: LagReporter | undefined;
  readonly #resumeTimers = new Map<number, NodeJS.Timeout>();
  readonly #commits = new OffsetCommits();
  readonly #heartbeatEvery: number;
  #consumer: Consumer | undefined;
  #joined = false;
  #assigned: number[] = [];
  #stopping: Promise<void> | undefined;
  readonly #stats = {
    batches: 0,
    records: 0,
    deadLettered: 0,
    retries: 0,
    pauses: 0,
    commits: 0,
    rebalances: 0,
    crashes: 0,
    lastBatchAt: 0,
    lastError: '',
  };

  constructor(opts: BatchConsumerOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError('batchSize must be >= 1');
    this.#o = opts;
    this.name = opts.name;
    this.#heartbeatEvery = Math.max(100, Math.floor(opts.sessionTimeoutMs / 10));
    this.#log = opts.logger.child({ worker: opts.name, topic: opts.topic, group: opts.groupId });
    const gauge = opts.metrics?.consumerLag;
    this.#lag = gauge
      ? new LagReporter({
          admin: opts.admin ?? (() => Promise.reject(new Error('no admin client'))),
          groupId: opts.groupId,
          topic: opts.topic,
          gauge,
          logger: this.#log,
          intervalMs: opts.admin ? (opts.lagIntervalMs ?? 15_000) : 0,
          owned: () => this.#assigned,
        })
      : undefined;
  }

  async start(): Promise<void> {
    const o = this.#o;
    const maxBytesPerPartition = o.maxBytesPerPartition ?? 1_048_576;
    const consumer = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 10)),
      rebalanceTimeout: Math.max(60_000, o.sessionTimeoutMs),
      maxWaitTimeInMs: o.batchTimeoutMs,
      minBytes: fetchMinBytes(o.batchSize, o.bytesPerRecord ?? 256, maxBytesPerPartition),
      maxBytesPerPartition,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.#joined = true;
      this.#stats.rebalances++;
      this.#assigned = [...(e.payload.memberAssignment[o.topic] ?? [])].sort((a, b) => a - b);
      this.#lag?.retain(this.#assigned);
      this.#log.info({ partitions: this.#assigned, memberId: e.payload.memberId }, 'joined consumer group');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      this.#joined = false;
      this.#stats.crashes++;
      this.#stats.lastError = e.payload.error.message;
      this.#log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    });
    consumer.on(consumer.events.STOP, () => (this.#joined = false));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: o.partitionsConcurrently ?? 1,
        eachBatch: (payload) => this.#eachBatch(payload),
      });
    } catch (err) {
      throw new ImError('KAFKA_ERROR', `consumer ${o.groupId} on ${o.topic} failed to start: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#lag?.start();
  }

  /** Stops fetching, ends the batch in flight (committing only what it wrote), leaves the group. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#abort.abort();
    for (const t of this.#resumeTimers.values()) clearTimeout(t);
    this.#resumeTimers.clear();
    await this.#lag?.stop();
    const consumer = this.#consumer;
    if (!consumer) return;
    try {
      await withTimeout(consumer.disconnect(), this.#o.stopTimeoutMs ?? 20_000, `${this.name} disconnect`);
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'consumer did not leave the group cleanly');
    }
    this.#joined = false;
    this.#log.info('consumer stopped');
  }

  ready(): boolean {
    return this.#joined && !this.#abort.signal.aborted;
  }

  stats(): Record<string, unknown> {
    return {
      ready: this.ready(),
      topic: this.#o.topic,
      group: this.#o.groupId,
      partitions: this.#assigned,
      paused: [...this.#resumeTimers.keys()].sort((a, b) => a - b),
      lag: this.#lag?.snapshot() ?? {},
      ...this.#stats,
      commitRequests: this.#commits.requests,
      ...this.#o.extraStats?.(),
    };
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const records = batch.messages.map((m) => toRecord(topic, partition, m));
    if (records.length === 0) return;
    this.#lag?.set(partition, lagOf(batch.highWatermark, records[0]?.offset ?? batch.highWatermark));
    // Heartbeats run in the background while batches, dead letters, backoff sleeps and
    // commits are in progress. A rebalance they report stops new batches; those in hand
    // are finished and committed (allowed in the old generation), then kafkajs rejoins.
    const beat = { error: undefined as unknown };
    const timer = setInterval(() => {
      heartbeat().catch((err: unknown) => (beat.error ??= err));
    }, this.#heartbeatEvery);
    // Aborted by stop(), or when one batch gives up: the later ones in flight are then
    // abandoned (never committed).
    const giveUp = new AbortController();
    const signal = giveUp.signal;
    // Each batch in flight listens on it (backoff sleeps), and each partition being
    // consumed listens on the stop signal; all are removed when done, so more than
    // Node's default of 10 at once is expected, not a leak.
    setMaxListeners(0, signal, this.#abort.signal);
    const onStop = () => giveUp.abort();
    if (this.#abort.signal.aborted) giveUp.abort();
    else this.#abort.signal.addEventListener('abort', onStop, { once: true });
    const send: SendCommit = (offsets) => payload.commitOffsetsIfNecessary(offsets);
    // The partition's commits, settled in offset order.
    let committed: Promise<void> = Promise.resolve();
    let commitError: { error: unknown } | undefined;
    const settle = async (): Promise<void> => {
      await committed;
      if (commitError) throw commitError.error;
    };
    const proceed = () => !signal.aborted && !commitError && beat.error === undefined && isRunning() && !isStale();
    const parts = chunk(records, this.#o.batchSize);
    const depth = Math.max(1, this.#o.batchesInFlight ?? 1);
    const inFlight: { part: ConsumedRecord[]; started: number; outcome: Promise<ChunkOutcome> }[] = [];
    const windDown = async () => {
      giveUp.abort();
      await Promise.allSettled(inFlight.splice(0).map((f) => f.outcome));
      await settle();
    };
    let next = 0;
    try {
      for (;;) {
        while (inFlight.length < depth && next < parts.length && proceed()) {
          const part = parts[next++] as ConsumedRecord[];
          const outcome = this.#processChunk(part, signal, beat);
          outcome.catch(() => undefined); // awaited in order below
          inFlight.push({ part, started: Date.now(), outcome });
        }
        const head = inFlight.shift();
        if (!head) break;
        let outcome: ChunkOutcome;
        try {
          outcome = await head.outcome;
        } catch (err) {
          await windDown();
          throw err;
        }
        if (outcome !== 'done') {
          await windDown();
          if (outcome === 'retries-exhausted') this.#pausePartition(partition, payload.pause);
          return;
        }
        const last = (head.part[head.part.length - 1] as ConsumedRecord).offset;
        // Asked for at once, so it can share a request with other partitions' commits;
        // the coalescer never moves an offset back, and the chain keeps resolution in order.
        const commit = this.#commits.commit(topic, partition, offsetAfter(last), send);
        commit.catch(() => undefined);
        committed = committed
          .then(() => commit)
          .then(
            () => {
              if (commitError) return;
              payload.resolveOffset(last);
              this.#stats.commits++;
              this.#lag?.set(partition, lagOf(batch.highWatermark, offsetAfter(last)));
            },
            (err: unknown) => void (commitError ??= { error: err }),
          );
        this.#stats.batches++;
        this.#stats.records += head.part.length;
        this.#stats.lastBatchAt = Date.now();
        this.#o.metrics?.batchSize.observe({ consumer: this.name }, head.part.length);
        this.#o.metrics?.batchLatency.observe({ consumer: this.name }, Date.now() - head.started);
        await heartbeat().catch((err: unknown) => (beat.error ??= err));
      }
      await settle();
      if (beat.error !== undefined) throw beat.error;
    } finally {
      clearInterval(timer);
      this.#abort.signal.removeEventListener('abort', onStop);
    }
  }

  /** Runs one batch through the handler with retries; dead-letters its poison records. */
  async #processChunk(records: ConsumedRecord[], signal: AbortSignal, beat: { error: unknown }): Promise<ChunkOutcome> {
    const { topic, partition } = records[0] as ConsumedRecord;
    for (let attempt = 1; ; attempt++) {
      try {
        const failed = await this.#runIsolating(records, attempt, signal);
        if (failed.length > 0) {
          await this.#o.deadLetters.publish(failed, attempt);
          this.#stats.deadLettered += failed.length;
          for (const f of failed) {
            this.#o.metrics?.deadLettered.inc({ topic, code: f.error.code });
            this.#log.warn(
              { partition: f.record.partition, offset: f.record.offset, code: f.error.code, err: f.error.message },
              'record dead-lettered',
            );
          }
        }
        return 'done';
      } catch (err) {
        const e = asImError(err, 'INTERNAL');
        this.#stats.lastError = `${e.code}: ${e.message}`;
        this.#o.metrics?.errors.inc({ fn: this.name, code: e.code });
        if (signal.aborted) return 'abandoned';
        if (attempt > this.#o.maxRetries) {
          this.#log.error({ partition, attempts: attempt, code: e.code, err: e.message }, 'batch failed after retries');
          return 'retries-exhausted';
        }
        const delay = retryDelay(this.#o.retryBackoffMs, attempt - 1, this.#o.random);
        this.#stats.retries++;
        this.#log.warn({ partition, attempt, delayMs: delay, code: e.code, err: e.message }, 'batch failed; retrying');
        await sleep(delay, signal);
        if (signal.aborted) return 'abandoned';
        // The group is rebalancing: give the uncommitted batch up and let kafkajs rejoin.
        if (beat.error !== undefined) throw beat.error;
      }
    }
  }

  /**
   * Calls the handler; if it throws a non-retryable ImError for the whole batch, bisects
   * to the poison record(s). Unknown errors count as transient: a handler bug stalls its
   * partition (visible as lag) rather than dead-lettering good records.
   */
  async #runIsolating(records: ConsumedRecord[], attempt: number, signal: AbortSignal): Promise<RecordFailure[]> {
    const { topic, partition } = records[0] as ConsumedRecord;
    const ctx = { topic, partition, attempt, signal };
    const { results, failed } = await isolate(
      records,
      async (subset) => (await this.#callHandler(subset, ctx)) ?? {},
      (err) => isImError(err) && kafkaDisposition(err) === 'dead-letter',
    );
    return [
      ...failed.map(({ item, error }) => ({ record: item, error: error as ImError })),
      ...results.flatMap((r) => r.failed ?? []),
    ];
  }

  /** A handler that hangs (a black-holed connection) must not hold its partition forever. */
  async #callHandler(records: readonly ConsumedRecord[], ctx: BatchContext): Promise<BatchResult | void> {
    const ms = this.#o.handlerTimeoutMs ?? 60_000;
    try {
      return await withTimeout(this.#o.handler(records, ctx), ms, `${this.name} batch handler`);
    } catch (err) {
      if (err instanceof TimeoutError) throw new ImError('DEADLINE_EXCEEDED', err.message, { cause: err });
      throw err;
    }
  }

  #pausePartition(partition: number, pause: () => () => void): void {
    const resume = pause();
    this.#stats.pauses++;
    const ms = this.#o.pauseMs ?? this.#o.retryBackoffMs[this.#o.retryBackoffMs.length - 1] ?? 5000;
    this.#log.warn({ partition, resumeInMs: ms }, 'partition paused: nothing committed past the failed batch');
    clearTimeout(this.#resumeTimers.get(partition));
    const timer = setTimeout(() => {
      this.#resumeTimers.delete(partition);
      if (this.#abort.signal.aborted) return;
      this.#log.info({ partition }, 'partition resumed');
      resume();
    }, ms);
    timer.unref();
    this.#resumeTimers.set(partition, timer);
  }
}

function toRecord(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    headers: m.headers ?? {},
    timestamp: Number(m.timestamp),
  };
}
