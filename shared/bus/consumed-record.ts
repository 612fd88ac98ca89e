/**
 * What a batch handler sees and answers: plain records (no kafkajs types), and the
 * records it found to be poison. The contract a handler keeps with BatchConsumer:
 * resolve only once every record not listed in `failed` is durably processed; throw a
 * retryable ImError when the whole batch failed for a transient reason (it will be
 * retried, so processing must be idempotent); list (or throw, as a non-retryable
 * ImError) what can never succeed, and it is dead-lettered.
 */
import type { ImError } from '../errors';
import type { KafkaHeaders } from '../observability/tracing';

export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  /** int64 offset as kafkajs gives it. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: KafkaHeaders;
  /** Record timestamp, ms since epoch. */
  readonly timestamp: number;
}

export interface RecordFailure {
  readonly record: ConsumedRecord;
  readonly error: ImError;
}

export interface BatchResult {
  /** Records that can never succeed; the consumer dead-letters them and moves on. */
  readonly failed?: readonly RecordFailure[];
}

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** 1 for the first try of this batch, then 2, 3… on retries. */
  readonly attempt: number;
  /** Aborted when the worker stops: long handlers may give up early (and throw). */
  readonly signal: AbortSignal;
}

export type BatchHandler = (records: readonly ConsumedRecord[], ctx: BatchContext) => Promise<BatchResult | void>;
