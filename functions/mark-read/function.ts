/**
 * mark-read: the client HTTP API (read receipts, inbox, unread counts, GDPR) and the
 * admin API, all behind Bearer JWT. Builds the stores once per cold start and hands
 * them to the routers; the OpenAPI document validates every request.
 */
import { Router } from 'express';
import { JwtAuth } from '../../shared/auth/jwt';
import { createContentCrypto } from '../../shared/crypto';
import { groupConversationId } from '../../shared/sequence/conversation-id';
import { InboxStore } from '../../shared/storage/inbox';
import { MessageStatusStore } from '../../shared/storage/message-status';
import { ReceiptStore } from '../../shared/storage/receipts';
import { UserStore } from '../../shared/storage/users';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { adminGroupsRouter } from './admin-groups';
import { adminUsersRouter } from './admin-users';
import { apiRouter } from './api';
import { ContentReader } from './content';
import { CursorCodec } from './cursor';
import { GdprStore } from './gdpr-store';
import { gdprRouter } from './gdpr-routes';
import { inboxRouter, unreadCountDirect } from './inbox-routes';
import { OpenApi } from './openapi';
import { ReadService } from './read-service';
import { receiptsRouter } from './receipts-routes';

export const markRead: FunctionDefinition = {
  name: 'mark-read',
  needs: ['mysql', 'redis', 'kafka'],
  async create({ config, deps, logger }) {
    const clock = Date.now;
    const auth = new JwtAuth(config.auth);
    const pool = deps.mysql();
    const redis = deps.redis();
    const api = new OpenApi();
    const inbox = new InboxStore(pool, { groupConversationId }, clock);
    const receipts = new ReceiptStore(pool, clock);
    const status = new MessageStatusStore(redis, config.messages.ttlMs);
    const content = new ContentReader(await createContentCrypto(config.encryption));
    const producer = deps.producer();
    const service = new ReadService({
      inbox,
      receipts,
      status,
      clock,
      publish: (event) =>
        producer.send(
          config.kafka.topics.readReceipts,
          'im.events.v1.ReadReceiptEvent',
          [{ key: event.senderId, event }],
          config.kafka.producerTimeoutMs,
        ),
    });
    const http = Router();
    // Express tries routers and routes in order, and every one entered costs CPU on every
    // request that passes through: the client API (the hot reads first) before the admin
    // API. No path is served by two routers, so the order changes nothing else.
    http.use(
      apiRouter({
        auth,
        routers: [
          inboxRouter({ api, inbox, cursors: new CursorCodec(config.auth.jwtSecret), content }),
          receiptsRouter({ api, service }),
          gdprRouter({ api, inbox, receipts, status, gdpr: new GdprStore(pool), redis, content, logger, clock }),
        ],
      }),
    );
    http.use(adminUsersRouter({ auth, users: new UserStore(pool) }));
    http.use(adminGroupsRouter({ auth, pool, producer, config }));
    return {
      http,
      directGet: [unreadCountDirect({ auth, api, inbox })],
      stats: () => ({ markRead: { unreadCountBatches: inbox.unreadBatchStats() } }),
    };
  },
};
