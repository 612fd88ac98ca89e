/**
 * route-group: im.v1.IMService RouteGroupMessage. Builds the real clients once per cold
 * start and hands them to the handler as ports; route-private serves the other two RPCs
 * of the same service (the host merges the halves). A MembershipFeed worker keeps the
 * membership cache in step with membership_change.
 */
import { createContentSealer } from '../../shared/crypto';
import { createContentFilter } from '../../shared/filter';
import { MessageClaims } from '../../shared/dedup';
import type { GroupMessage } from '../../shared/gen/im/events/v1/events';
import { IMServiceService, type RouteGroupMessageRequest, type RouteGroupMessageResponse } from '../../shared/gen/im/v1/im';
import { GroupStore, MembershipCache, MembershipFeed } from '../../shared/groups';
import { unary } from '../../shared/runtime/grpc';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { SequenceGenerator } from '../../shared/sequence/generator';
import { RouteGroupHandler } from './handler';
import type { GroupOutcome } from './ports';

export const CLAIM_SCOPE = 'route-group';

export const routeGroup: FunctionDefinition = {
  name: 'route-group',
  needs: ['mysql', 'redis', 'kafka'],
  async create({ config, deps, logger, metrics }) {
    const redis = deps.redis();
    const producer = deps.producer();
    const topic = config.kafka.topics.groupMsg;
    // Connect now so the first message does not pay for it; a failure is retried per send.
    void producer.connect().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'kafka not reachable yet'));
    const cache = new MembershipCache({
      store: new GroupStore(deps.mysql()),
      ttlMs: config.groups.cacheTtlMs,
      size: config.groups.cacheSize,
      metrics,
    });
    const feed = new MembershipFeed({
      kafka: deps.kafka(),
      topic: config.kafka.topics.membershipChange,
      groupIdPrefix: config.groups.membershipConsumerPrefix,
      cache,
      logger,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      stopTimeoutMs: config.server.shutdownTimeoutMs,
    });
    const filter = await createContentFilter(config.filter, { logger, metrics });
    const handler = new RouteGroupHandler({
      membership: cache,
      claims: new MessageClaims<GroupOutcome>({
        redis,
        scope: CLAIM_SCOPE,
        ttlMs: config.messages.ttlMs,
        inProgressTtlMs: config.messages.claimInProgressTtlMs,
        metrics,
      }),
      sequences: new SequenceGenerator({
        redis,
        mysql: deps.mysql(),
        metrics,
        blockSize: config.sequence.snapshotInterval,
        idleTtlMs: config.sequence.idleTtlMs,
      }),
      filter,
      sealer: await createContentSealer(config.encryption),
      publisher: {
        publish: (message: GroupMessage, timeoutMs: number) =>
          producer.send(topic, 'im.events.v1.GroupMessage', [{ key: message.groupId, event: message }], timeoutMs),
      },
      metrics,
      logger,
      clock: Date.now,
      settings: {
        maxMessageSize: config.server.maxMessageSize,
        claimWaitMs: config.messages.claimWaitMs,
        publishTimeoutMs: config.kafka.producerTimeoutMs,
      },
    });
    return {
      grpc: [
        {
          definition: IMServiceService,
          implementation: {
            routeGroupMessage: unary<RouteGroupMessageRequest, RouteGroupMessageResponse>(
              'RouteGroupMessage',
              (req, call) => handler.route(req, call),
              { logger, metrics, fn: 'route-group' },
            ),
          },
        },
      ],
      workers: [feed],
      stats: () => ({ routeGroup: { membershipCache: cache.stats(), membershipFeed: feed.stats() } }),
      async close() {
        filter.close();
      },
    };
  },
};
