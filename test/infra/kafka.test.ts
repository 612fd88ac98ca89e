/**
 * Kafka round trip on the real broker: produce with the product's codec and headers,
 * consume with a consumer group, commit, and see the trace context carried.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { loadConfig } from '../../shared/config';
import { createKafka } from '../../shared/bus/kafka';
import { EventProducer } from '../../shared/bus/producer';
import { decodeEvent, headerValue } from '../../shared/bus/codec';
import { installPropagator } from '../../shared/observability/tracing';
import { eventually, testLogger, uid } from '../support/env';
import type { OfflineMessage } from '../../shared/gen/im/events/v1/events';

describe('kafka (real broker)', () => {
  const config = loadConfig(process.env);
  const kafka = createKafka(config.kafka, testLogger(), uid('kafka-test'));
  const topic = uid('roundtrip');
  const admin = kafka.admin();
  const producer = new EventProducer(kafka);

  beforeAll(async () => {
    installPropagator();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
  });
  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('produces and consumes an event through a consumer group', async () => {
    const event: OfflineMessage = {
      msgId: uid('m'),
      senderId: 'alice',
      recipientId: 'bob',
      conversationType: 'private',
      conversationId: 'p:alice:bob',
      sequenceNumber: 7,
      content: { body: { $case: 'text', value: 'héllo 👋' } },
      timestamp: 1,
      serverTime: 2,
      metadata: { k: 'v' },
      deliveredDevices: [],
    } as OfflineMessage;
    const span = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    await context.with(trace.setSpan(context.active(), span), () =>
      producer.send(topic, 'im.events.v1.OfflineMessage', [{ key: 'bob', event }]),
    );

    const groupId = uid('group');
    const consumer = kafka.consumer({ groupId });
    const got: { value: OfflineMessage; traceparent?: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        got.push({ value: decodeEvent('im.events.v1.OfflineMessage', message.value, message.headers), traceparent: headerValue(message.headers, 'traceparent') });
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    await eventually(() => got.length === 1, 20000);
    await consumer.disconnect();

    expect(got[0]?.value).toEqual(event);
    expect(got[0]?.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-/);
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.map((p) => Number(p.offset)).filter((o) => o > 0);
    expect(committed).toEqual([1]);
  });

  it('rejects a record of another schema or garbage as INVALID_PAYLOAD', () => {
    expect(() => decodeEvent('im.events.v1.OfflineMessage', Buffer.from('x'), { 'im-schema': 'im.events.v1.GroupMessage' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD' }),
    );
    expect(() => decodeEvent('im.events.v1.OfflineMessage', Buffer.from([0xff, 0xff, 0xff]), { 'im-schema': 'im.events.v1.OfflineMessage' })).toThrow(
      expect.objectContaining({ code: 'INVALID_PAYLOAD' }),
    );
  });
});
