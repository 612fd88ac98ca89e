/**
 * fanout-group: the consumer of group_msg (the im-task job). A BatchConsumer in group
 * FANOUT_CONSUMER_GROUP hands batches of group messages to the handler, which stores
 * each once in the group log, pushes it to the members' online devices through
 * per-gateway lanes, and emits OFFLINE_PUSH tasks for the others; offsets are committed
 * after that. KEDA scales it on the group's lag (max replicas = group_msg partitions).
 */
import { BatchConsumer } from '../../shared/bus/batch-consumer';
import { DeadLetterPublisher } from '../../shared/bus/dead-letter';
import { GatewayClient, gatewayClientOptions } from '../../shared/gateway';
import { GroupStore } from '../../shared/groups';
import { Registry } from '../../shared/registry';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { GroupLog } from '../../shared/storage/group-log';
import { createContentOpener } from '../../shared/crypto';
import { createFanoutGroupHandler } from './handler';
import { GatewayLanes } from './lanes';
import type { PushTaskSink } from './push-tasks';

export const fanoutGroup: FunctionDefinition = {
  name: 'fanout-group',
  needs: ['mysql', 'etcd', 'kafka'],
  async create({ config, deps, logger, metrics }) {
    const t = config.task;
    const topics = config.kafka.topics;
    const producer = deps.producer();
    // A round's lookup is a background read of up to FANOUT_BATCH_SIZE users: it may take
    // as long as a push (FANOUT_PUSH_TIMEOUT), not only a router's REGISTRY_LOOKUP_TIMEOUT.
    const lookupTimeoutMs = Math.max(config.registry.lookupTimeoutMs, t.fanoutPushTimeoutMs);
    const registry = new Registry({ etcd: deps.etcd(), config: { ...config.registry, lookupTimeoutMs }, logger, metrics });
    registry.start();
    const gateway = new GatewayClient(gatewayClientOptions(config), metrics);
    const lanes = new GatewayLanes(gateway, {
      concurrency: t.fanoutGatewayConcurrency,
      queueLimit: t.fanoutGatewayQueue,
      timeoutMs: t.fanoutPushTimeoutMs,
      // A merged call is never larger than one round could make for a single gateway.
      maxTargets: t.fanoutBatchSize,
    });
    const tasks: PushTaskSink | undefined = t.pushNotificationEnabled
      ? {
          send: (batch) =>
            producer.send(
              topics.offlinePush,
              'im.events.v1.OfflinePushTask',
              batch.map((task) => ({ key: task.userId, event: task })),
              config.kafka.producerTimeoutMs,
            ),
        }
      : undefined;
    let last: Record<string, unknown> = {};
    const handler = createFanoutGroupHandler({
      log: new GroupLog(deps.mysql()),
      opener: await createContentOpener(config.encryption),
      fanout: {
        members: new GroupStore(deps.mysql()),
        devices: registry,
        lanes,
        metrics,
        logger,
        settings: {
          pageSize: t.fanoutBatchSize,
          largeGroupThreshold: t.largeGroupThreshold,
          pageConcurrency: t.fanoutPageConcurrency,
        },
      },
      ...(tasks ? { tasks } : {}),
      ttlMs: config.messages.ttlMs,
      retryAttempts: t.messageRetryAttempts,
      metrics,
      logger,
      onReport: (report) => (last = { ...report, at: Date.now() }),
    });
    const worker = new BatchConsumer({
      name: 'fanout-group',
      kafka: deps.kafka(),
      groupId: t.fanoutConsumerGroup,
      topic: topics.groupMsg,
      handler,
      deadLetters: new DeadLetterPublisher(producer, topics.deadLetter, t.fanoutConsumerGroup),
      logger,
      metrics,
      batchSize: t.fanoutMessageBatch,
      batchTimeoutMs: t.fanoutFetchMaxWaitMs,
      // Fanout is latency-bound: a fetch returns as soon as one record is there.
      bytesPerRecord: 0,
      partitionsConcurrently: t.fanoutPartitionsConcurrently,
      retryBackoffMs: config.offlineWorker.retryBackoffMs,
      maxRetries: t.messageRetryAttempts,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      admin: () => deps.admin(),
      stopTimeoutMs: config.server.shutdownTimeoutMs,
    });
    return {
      workers: [worker],
      stats: () => ({
        fanoutGroup: { registry: registry.stats(), gateways: gateway.stats(), lanes: lanes.stats(), lastBatch: last },
      }),
      async close() {
        registry.close();
        gateway.close();
      },
    };
  },
};
