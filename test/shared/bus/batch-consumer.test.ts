/**
 * BatchConsumer against the real broker, with handlers that record what they saw:
 * batches of at most BATCH_SIZE committed as last+1; transient failures retried, then
 * the partition paused with nothing committed past it and resumed; a non-retryable
 * failure bisected down to its record and dead-lettered while the partition moves on;
 * an unknown error is not poison; a hanging handler times out into a retry; stop()
 * abandons a batch in its backoff promptly; with several batches of a partition in
 * flight, commits follow offset order and never cover a batch that has not resolved.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { BatchConsumer, type BatchConsumerOptions } from '../../../shared/bus/batch-consumer';
import { decodeEvent } from '../../../shared/bus/codec';
import type { ConsumedRecord } from '../../../shared/bus/consumed-record';
import { DeadLetterPublisher } from '../../../shared/bus/dead-letter';
import { createKafka } from '../../../shared/bus/kafka';
import { EventProducer } from '../../../shared/bus/producer';
import { ImError } from '../../../shared/errors';
import { createMetrics } from '../../../shared/observability/metrics';
import { eventually, testConfig, testLogger, uid } from '../../support/env';
import { createTopics, groupLag, rand, readTopic } from '../../functions/persist-offline/support';

const config = testConfig();

describe('BatchConsumer (real Kafka)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let events: EventProducer;
  const topics: string[] = [];
  const consumers: BatchConsumer[] = [];

  beforeAll(async () => {
    kafka = createKafka(config.kafka, testLogger(), uid('bc-test'));
    admin = kafka.admin();
    producer = kafka.producer();
    events = new EventProducer(kafka);
    await Promise.all([admin.connect(), producer.connect()]);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await Promise.all([producer.disconnect(), events.disconnect()]);
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  async function fixture(partitions: number, count: number) {
    const id = rand();
    const topic = `bc-${id}`;
    const dlq = `bc-dlq-${id}`;
    await createTopics(admin, [
      { topic, partitions },
      { topic: dlq, partitions: 1 },
    ]);
    topics.push(topic, dlq);
    const messages = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % partitions }));
    await producer.send({ topic, acks: -1, messages });
    return { topic, dlq, groupId: `bc-group-${id}` };
  }

  function consumer(
    f: { topic: string; dlq: string; groupId: string },
    handler: BatchConsumerOptions['handler'],
    over: Partial<BatchConsumerOptions> = {},
  ): BatchConsumer {
    const c = new BatchConsumer({
      name: 'test',
      kafka,
      groupId: f.groupId,
      topic: f.topic,
      handler,
      deadLetters: new DeadLetterPublisher(events, f.dlq, f.groupId),
      logger: testLogger(),
      metrics: createMetrics(),
      batchSize: 10,
      batchTimeoutMs: 100,
      retryBackoffMs: [50, 100],
      maxRetries: 2,
      sessionTimeoutMs: 6000,
      pauseMs: 300,
      ...over,
    });
    consumers.push(c);
    return c;
  }

  const values = (records: readonly ConsumedRecord[]) => records.map((r) => r.value?.toString() ?? '');

  it('hands over batches of at most BATCH_SIZE, each record once, and commits the end', async () => {
    const f = await fixture(2, 95);
    const seen: string[] = [];
    const sizes: number[] = [];
    const c = consumer(f, async (records) => {
      sizes.push(records.length);
      seen.push(...values(records));
    });
    await c.start();
    await eventually(() => c.ready());
    await eventually(async () => (await groupLag(admin, f.groupId, f.topic)) === 0, 15000, 50);
    expect(seen.sort()).toEqual(Array.from({ length: 95 }, (_, i) => `v${i}`).sort());
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(c.stats()).toMatchObject({ records: 95, deadLettered: 0, partitions: [0, 1], lag: { '0': 0, '1': 0 } });
  });

  it('retries a transient failure, pauses the partition without committing past it, and resumes', async () => {
    const f = await fixture(1, 30);
    let failing = true;
    const seen = new Set<string>();
    const c = consumer(f, async (records) => {
      if (failing && records.some((r) => r.offset === '20')) throw new ImError('STORAGE_ERROR', 'database down');
      values(records).forEach((v) => seen.add(v));
    });
    await c.start();
    await eventually(() => (c.stats()['pauses'] as number) >= 2, 15000, 20);
    const [committed] = (await admin.fetchOffsets({ groupId: f.groupId, topics: [f.topic] }))[0]?.partitions ?? [];
    expect(committed?.offset).toBe('20');
    expect(seen.has('v20')).toBe(false);
    failing = false;
    await eventually(async () => (await groupLag(admin, f.groupId, f.topic)) === 0, 15000, 50);
    expect(seen.size).toBe(30);
    expect(c.stats()).toMatchObject({ deadLettered: 0 });
    expect((await admin.fetchTopicOffsets(f.dlq))[0]?.high).toBe('0');
  });

  it('bisects a batch that fails for one record, dead-letters that record and moves on', async () => {
    const f = await fixture(1, 25);
    const calls: number[] = [];
    const seen: string[] = [];
    const c = consumer(f, async (records) => {
      calls.push(records.length);
      if (records.some((r) => r.offset === '13')) throw new ImError('INVALID_PAYLOAD', 'cannot ever work');
      seen.push(...values(records));
    });
    await c.start();
    await eventually(async () => (await groupLag(admin, f.groupId, f.topic)) === 0, 15000, 50);
    expect(seen.sort()).toEqual(Array.from({ length: 25 }, (_, i) => `v${i}`).filter((v) => v !== 'v13').sort());
    const [letter] = await readTopic(kafka, f.dlq, (got) => got.length >= 1);
    expect(decodeEvent('im.events.v1.DeadLetter', letter?.value ?? null, letter?.headers)).toMatchObject({
      topic: f.topic,
      partition: 0,
      offset: '13',
      errorCode: 'INVALID_PAYLOAD',
      errorMessage: 'cannot ever work',
      consumerGroup: f.groupId,
    });
    expect(calls.length).toBeLessThan(15);
  });

  it('treats an unknown error as transient, never as poison', async () => {
    const f = await fixture(1, 5);
    let fail = 3;
    const c = consumer(f, async () => {
      if (fail-- > 0) throw new TypeError('bug');
    });
    await c.start();
    await eventually(async () => (await groupLag(admin, f.groupId, f.topic)) === 0, 15000, 50);
    expect(c.stats()).toMatchObject({ deadLettered: 0, pauses: 1 });
  });

  it('gives up on a hanging handler call after handlerTimeoutMs and retries the batch', async () => {
    const f = await fixture(1, 5);
    let calls = 0;
    const seen = new Set<string>();
    const c = consumer(
      f,
      async (records) => {
        if (calls++ === 0) return new Promise<void>(() => undefined);
        values(records).forEach((v) => seen.add(v));
      },
      { handlerTimeoutMs: 200 },
    );
    await c.start();
    await eventually(async () => (await groupLag(admin, f.groupId, f.topic)) === 0, 15000, 50);
    expect(seen.size).toBe(5);
    expect(c.stats()).toMatchObject({ retries: 1, deadLettered: 0, lastError: expect.stringContaining('DEADLINE_EXCEEDED') });
  });

  it('stop() abandons a batch waiting in its backoff promptly and commits nothing of it', async () => {
    const f = await fixture(1, 10);
    const c = consumer(
      f,
      async () => {
        throw new ImError('STORAGE_ERROR', 'down');
      },
      { retryBackoffMs: [30_000], maxRetries: 5 },
    );
    await c.start();
    await eventually(() => (c.stats()['retries'] as number) >= 1, 15000, 20);
    const t0 = Date.now();
    await c.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.ready()).toBe(false);
    const [p] = (await admin.fetchOffsets({ groupId: f.groupId, topics: [f.topic] }))[0]?.partitions ?? [];
    expect(p?.offset).toBe('-1');
  });

  const committedOffset = async (f: { groupId: string; topic: string }) =>
    (await admin.fetchOffsets({ groupId: f.groupId, topics: [f.topic] }))[0]?.partitions[0]?.offset;

  it('with batches in flight, commits in offset order only what resolved', async () => {
    const f = await fixture(1, 60);
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    let active = 0;
    let most = 0;
    const done = new Set<string>();
    const c = consumer(
      f,
      async (records) => {
        most = Math.max(most, ++active);
        try {
          if (records.some((r) => r.offset === '20')) await slow;
          values(records).forEach((v) => done.add(v));
        } finally {
          active--;
        }
      },
      { batchesInFlight: 4 },
    );
    await c.start();
    // Batches after the slow one resolve, yet the commit stays at its first offset.
    await eventually(() => done.has('v59') || (done.has('v49') && most >= 4), 15000, 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(await committedOffset(f)).toBe('20');
    expect(most).toBeGreaterThan(1);
    release();
    await eventually(async () => (await committedOffset(f)) === '60', 15000, 50);
    expect(done.size).toBe(60);
  });

  it('with batches in flight, one that gives up pauses the partition at its offset; the later ones are redone', async () => {
    const f = await fixture(1, 60);
    let failing = true;
    const seen = new Map<string, number>();
    const c = consumer(
      f,
      async (records) => {
        if (failing && records.some((r) => r.offset === '20')) throw new ImError('STORAGE_ERROR', 'database down');
        values(records).forEach((v) => seen.set(v, (seen.get(v) ?? 0) + 1));
      },
      { batchesInFlight: 4 },
    );
    await c.start();
    await eventually(() => (c.stats()['pauses'] as number) >= 1, 15000, 20);
    expect(await committedOffset(f)).toBe('20');
    expect(seen.has('v20')).toBe(false);
    failing = false;
    await eventually(async () => (await groupLag(admin, f.groupId, f.topic)) === 0, 15000, 50);
    expect(seen.size).toBe(60);
    // Handled while the failing batch retried, never committed, so handled again.
    expect(seen.get('v30')).toBeGreaterThanOrEqual(2);
    expect(c.stats()).toMatchObject({ deadLettered: 0 });
  });
});
