/**
 * The functions' HTTP routes as one express app: the JSON body parser, each function's
 * router, then one error handler that renders every failure as
 * `{ error: { code, message } }` with the mapped status. The host's own endpoints
 * (/health, /ready, /stats, /metrics) are served before it by ./health-http; a bundle
 * whose functions serve no routes carries neither this module nor express (build.mjs).
 */
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import { ImError, toHttpError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export function createRoutesApp(opts: {
  routers: Router[];
  metrics: Metrics;
  logger: Logger;
  bodyLimit: number;
  fnLabel: string;
}): Express {
  const { metrics, logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(express.json({ limit: opts.bodyLimit, type: ['application/json', 'application/*+json'] }));
  for (const router of opts.routers) app.use(router);

  app.use((_req, _res, next) => next(new ImError('NOT_FOUND', 'no such route')));

  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const mapped = toHttpError(translateBodyParserError(err));
    metrics.errors.inc({ fn: opts.fnLabel, code: mapped.body.error.code });
    if (mapped.status >= 500) logger.error({ err }, 'http request failed');
    if (res.headersSent) return res.end();
    res.status(mapped.status).json(mapped.body);
  };
  app.use(onError);
  return app;
}

/** body-parser signals malformed or oversized bodies with `type`/`status` fields. */
function translateBodyParserError(err: unknown): unknown {
  if (err instanceof ImError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return new ImError('MESSAGE_TOO_LARGE', 'request body too large');
  if (e?.type === 'entity.parse.failed') return new ImError('INVALID_ARGUMENT', 'malformed JSON body');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ImError('INVALID_ARGUMENT', e.message ?? 'bad request');
  }
  return err;
}
