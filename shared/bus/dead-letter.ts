/**
 * Dead letters: a record that can never be processed is republished, untouched, inside
 * an im.events.v1.DeadLetter on the dead-letter topic together with why it failed and
 * where it came from (topic, partition, offset, key, headers, consumer group,
 * attempts). The origin is repeated in plain headers so operators can filter the
 * topic without decoding it. Publishing is durable (acks=all) and happens before the
 * consumer commits past the record, so a poison record is never simply dropped.
 */
import type { DeadLetter } from '../gen/im/events/v1/events';
import type { ImError } from '../errors';
import type { KafkaHeaders } from '../observability/tracing';
import type { ConsumedRecord, RecordFailure } from './consumed-record';
import type { EventProducer } from './producer';

export const DEAD_LETTER_SCHEMA = 'im.events.v1.DeadLetter' as const;

export const DLQ_HEADERS = {
  topic: 'im-dlq-topic',
  partition: 'im-dlq-partition',
  offset: 'im-dlq-offset',
  errorCode: 'im-dlq-error-code',
  consumerGroup: 'im-dlq-consumer-group',
} as const;

/** Header values as text; a repeated header keeps all its values, comma-separated. */
export function headersAsText(headers: KafkaHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString();
  }
  return out;
}

export function toDeadLetter(
  record: ConsumedRecord,
  error: ImError,
  origin: { consumerGroup: string; attempts: number; now: number },
): DeadLetter {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key ?? Buffer.alloc(0),
    value: record.value ?? Buffer.alloc(0),
    headers: headersAsText(record.headers),
    errorCode: error.code,
    errorMessage: error.message,
    consumerGroup: origin.consumerGroup,
    failedAt: origin.now,
    attempts: origin.attempts,
  };
}

/** The DLQ record's key: the original key, so a replay lands on the same partition. */
export const deadLetterKey = (record: ConsumedRecord): string =>
  record.key !== null && record.key.length > 0 ? record.key.toString() : `${record.topic}/${record.partition}/${record.offset}`;

export class DeadLetterPublisher {
  constructor(
    private readonly producer: Pick<EventProducer, 'send'>,
    readonly topic: string,
    private readonly consumerGroup: string,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Publishes every failure durably or throws KAFKA_ERROR (retryable). */
  async publish(failures: readonly RecordFailure[], attempts: number): Promise<void> {
    if (failures.length === 0) return;
    const now = this.clock();
    await this.producer.send(
      this.topic,
      DEAD_LETTER_SCHEMA,
      failures.map(({ record, error }) => ({
        key: deadLetterKey(record),
        event: toDeadLetter(record, error, { consumerGroup: this.consumerGroup, attempts, now }),
        headers: {
          [DLQ_HEADERS.topic]: record.topic,
          [DLQ_HEADERS.partition]: String(record.partition),
          [DLQ_HEADERS.offset]: record.offset,
          [DLQ_HEADERS.errorCode]: error.code,
          [DLQ_HEADERS.consumerGroup]: this.consumerGroup,
        },
      })),
    );
  }
}
