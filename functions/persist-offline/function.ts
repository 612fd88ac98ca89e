/**
 * persist-offline: the consumer of offline_msg that fills every user's 7-day inbox.
 * A BatchConsumer in group KAFKA_CONSUMER_GROUP writes each batch idempotently to
 * offline_messages, publishes OFFLINE_PUSH tasks, and only then commits its offsets;
 * poison records go to the dead-letter topic. OFFLINE_WORKER_ENABLED=false leaves the
 * function with nothing to run (its /ready then only reflects its dependencies).
 */
import { BatchConsumer } from '../../shared/bus/batch-consumer';
import { DeadLetterPublisher } from '../../shared/bus/dead-letter';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { OfflineMessageStore } from '../../shared/storage/offline-messages';
import { DEFAULT_GROUP_ROWS, createPersistOfflineHandler, type PushTaskSink } from './handler';

export const persistOffline: FunctionDefinition = {
  name: 'persist-offline',
  needs: ['mysql', 'kafka'],
  async create({ config, deps, logger, metrics }) {
    const w = config.offlineWorker;
    if (!w.enabled) {
      logger.info('offline worker disabled (OFFLINE_WORKER_ENABLED=false)');
      return {};
    }
    const producer = deps.producer();
    const topics = config.kafka.topics;
    const pushes: PushTaskSink | undefined = config.task.pushNotificationEnabled
      ? {
          send: (tasks) =>
            producer.send(
              topics.offlinePush,
              'im.events.v1.OfflinePushTask',
              tasks.map((t) => ({ key: t.userId, event: t })),
              config.kafka.producerTimeoutMs,
            ),
        }
      : undefined;
    const handler = createPersistOfflineHandler({
      store: new OfflineMessageStore(deps.mysql()),
      ...(pushes ? { pushes } : {}),
      ttlMs: config.messages.ttlMs,
      metrics,
      writesInFlight: w.writesInFlight,
    });
    const worker = new BatchConsumer({
      name: 'persist-offline',
      kafka: deps.kafka(),
      groupId: w.consumerGroup,
      topic: topics.offlineMsg,
      handler,
      deadLetters: new DeadLetterPublisher(producer, topics.deadLetter, w.consumerGroup),
      logger,
      metrics,
      batchSize: w.batchSize,
      batchTimeoutMs: w.batchTimeoutMs,
      retryBackoffMs: w.retryBackoffMs,
      maxRetries: w.maxRetries,
      partitionsConcurrently: w.partitionsConcurrently,
      // Enough batches of a partition in hand to fill a group transaction.
      batchesInFlight: Math.max(1, Math.ceil(DEFAULT_GROUP_ROWS / w.batchSize)),
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      admin: () => deps.admin(),
      stopTimeoutMs: config.server.shutdownTimeoutMs,
      extraStats: () => handler.stats(),
    });
    return { workers: [worker] };
  },
};
