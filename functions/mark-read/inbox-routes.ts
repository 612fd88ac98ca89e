/**
 * HTTP routes of the caller's inbox: GET /api/v1/offline (+ /count) — everything
 * waiting in the 7-day inbox — and GET /api/v1/messages/unread (+ /count). Both
 * listings walk the same merge (shared/storage/inbox.ts) with an opaque cursor.
 */
import { Router, type Response } from 'express';
import type { JwtAuth } from '../../shared/auth/jwt';
import type { DirectGetRoute } from '../../shared/runtime/types';
import type { InboxCounts, InboxStore } from '../../shared/storage/inbox';
import type { ContentReader } from './content';
import type { CursorCodec, Listing } from './cursor';
import { messageJson } from './message-view';
import { inputOf, type OpenApi } from './openapi';
import { callerFrom, callerOf } from './self';

interface PageQuery {
  cursor?: string;
  limit: number;
  user_id?: string;
}

export function inboxRouter(deps: { api: OpenApi; inbox: InboxStore; cursors: CursorCodec; content: ContentReader }): Router {
  const { api, inbox, cursors, content } = deps;
  const router = Router();

  const page = async (res: Response, listing: Listing): Promise<void> => {
    const { query } = inputOf<unknown, PageQuery, unknown>(res);
    const caller = callerOf(res, { 'query.user_id': query.user_id });
    const from = cursors.decode(caller, listing, query.cursor);
    const p = await inbox.page(caller, from, query.limit, { unreadOnly: listing === 'unread' });
    res.json({
      messages: await Promise.all(p.messages.map((m) => messageJson(m, content))),
      next_cursor: cursors.encode(caller, listing, p.position),
      has_more: p.hasMore,
      total_count: p.total,
    });
  };

  // The hottest route first (clients poll it): express matches routes in order. Most of
  // its requests are answered by unreadCountDirect, without express, the same way.
  router.get('/api/v1/messages/unread/count', api.validate('getUnreadCount'), async (_req, res) => {
    const { query } = inputOf<unknown, { user_id?: string }, unknown>(res);
    res.json(unreadCountJson(await inbox.unreadCounts(callerOf(res, { 'query.user_id': query.user_id }))));
  });

  router.get('/api/v1/offline', api.validate('listOffline'), (_req, res) => page(res, 'offline'));
  router.get('/api/v1/messages/unread', api.validate('listUnread'), (_req, res) => page(res, 'unread'));

  router.get('/api/v1/offline/count', api.validate('getOfflineCount'), async (_req, res) => {
    const s = await inbox.span(callerOf(res));
    res.json({ count: s.count, oldest_timestamp: s.oldest, newest_timestamp: s.newest });
  });

  return router;
}

const UNREAD_COUNT_PATH = '/api/v1/messages/unread/count';

/**
 * GET /api/v1/messages/unread/count served by the host before express: the route
 * clients poll, where express's own work per request was more than the count's. The
 * same steps as the express route in the same order: bearer token, then the OpenAPI
 * validation of the query, then the count.
 */
export function unreadCountDirect(deps: { auth: JwtAuth; api: OpenApi; inbox: InboxStore }): DirectGetRoute {
  const { auth, api, inbox } = deps;
  return {
    path: UNREAD_COUNT_PATH,
    async handle(req, rawQuery) {
      const principal = await auth.authenticate(req.headers.authorization);
      const query = api.input('getUnreadCount', { params: {}, query: rawQuery, body: undefined }).query as { user_id?: string };
      return unreadCountJson(await inbox.unreadCounts(callerFrom(principal, { 'query.user_id': query.user_id })));
    },
  };
}

function unreadCountJson(c: InboxCounts): { count: number; private_count: number; group_count: number } {
  return { count: c.private + c.group, private_count: c.private, group_count: c.group };
}
