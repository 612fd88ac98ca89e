/**
 * route-private: im.v1.IMService RoutePrivateMessage and GetMessageStatus. Builds the
 * real clients once per cold start and hands them to the handler as ports; route-group
 * serves RouteGroupMessage of the same service (the host merges the halves).
 */
import { createContentSealer } from '../../shared/crypto';
import { createContentFilter } from '../../shared/filter';
import { MessageClaims } from '../../shared/dedup';
import { GatewayClient, gatewayClientOptions } from '../../shared/gateway';
import type { OfflineMessage } from '../../shared/gen/im/events/v1/events';
import {
  IMServiceService,
  type GetMessageStatusRequest,
  type GetMessageStatusResponse,
  type RoutePrivateMessageRequest,
  type RoutePrivateMessageResponse,
} from '../../shared/gen/im/v1/im';
import { Registry } from '../../shared/registry';
import { unary } from '../../shared/runtime/grpc';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { SequenceGenerator } from '../../shared/sequence/generator';
import { MessageStatusStore } from '../../shared/storage/message-status';
import { UserStore } from '../../shared/storage/users';
import { ClaimAndNumber } from './claim-and-number';
import { RoutePrivateHandler } from './handler';
import type { RouteOutcome } from './ports';
import { LoadBatcher } from './offline-batcher';
import { PushCoalescer } from './push-coalescer';
import { RecipientCache } from './recipients';

export const CLAIM_SCOPE = 'route-private';

export const routePrivate: FunctionDefinition = {
  name: 'route-private',
  needs: ['mysql', 'redis', 'etcd', 'kafka'],
  async create({ config, deps, logger, metrics }) {
    const redis = deps.redis();
    const registry = new Registry({ etcd: deps.etcd(), config: config.registry, logger, metrics });
    registry.start();
    const gateway = new GatewayClient(gatewayClientOptions(config), metrics);
    const producer = deps.producer();
    const topic = config.kafka.topics.offlineMsg;
    // Connect now so the first message does not pay for it; a failure is retried per send.
    void producer.connect().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'kafka not reachable yet'));
    const offline = new LoadBatcher<OfflineMessage>((messages, timeoutMs) =>
      producer.send(
        topic,
        'im.events.v1.OfflineMessage',
        messages.map((m) => ({ key: m.recipientId, event: m })),
        timeoutMs,
      ),
    );
    const filter = await createContentFilter(config.filter, { logger, metrics });
    const sealer = await createContentSealer(config.encryption);
    const handler = new RoutePrivateHandler({
      recipients: new RecipientCache(new UserStore(deps.mysql()), config.messages.usersCacheTtlMs),
      claims: new MessageClaims<RouteOutcome>({
        redis,
        scope: CLAIM_SCOPE,
        ttlMs: config.messages.ttlMs,
        inProgressTtlMs: config.messages.claimInProgressTtlMs,
        metrics,
        batchPerTurn: true,
      }),
      numberingClaims: new ClaimAndNumber({
        redis,
        scope: CLAIM_SCOPE,
        inProgressTtlMs: config.messages.claimInProgressTtlMs,
        sequenceIdleTtlMs: config.sequence.idleTtlMs,
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
      sealer,
      devices: registry,
      // Concurrent requests share one gateway call and one Redis call per step and turn.
      gateway: new PushCoalescer(gateway),
      offline,
      status: new MessageStatusStore(redis, config.messages.ttlMs, { batchPerTurn: true }),
      metrics,
      logger,
      clock: Date.now,
      settings: {
        maxMessageSize: config.server.maxMessageSize,
        offlineStorePolicy: config.messages.offlineStorePolicy,
        pushBudgetMs: config.server.retryTimeoutMs,
        claimWaitMs: config.messages.claimWaitMs,
        publishTimeoutMs: config.kafka.producerTimeoutMs,
      },
    });
    const fn = { logger, metrics, fn: 'route-private' };
    return {
      grpc: [
        {
          definition: IMServiceService,
          implementation: {
            routePrivateMessage: unary<RoutePrivateMessageRequest, RoutePrivateMessageResponse>(
              'RoutePrivateMessage',
              (req, call) => handler.route(req, call),
              fn,
            ),
            getMessageStatus: unary<GetMessageStatusRequest, GetMessageStatusResponse>(
              'GetMessageStatus',
              (req) => handler.status(req),
              fn,
            ),
          },
        },
      ],
      stats: () => ({ routePrivate: { registry: registry.stats(), gateways: gateway.stats(), offlinePublish: offline.stats() } }),
      async close() {
        registry.close();
        gateway.close();
        filter.close();
      },
    };
  },
};
