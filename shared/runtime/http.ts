/**
 * The host's HTTP server: /health (liveness), /ready (each needed dependency and
 * worker), /stats, /metrics, then the functions' routes, then one error handler that
 * renders every failure as `{ error: { code, message } }` with the mapped status.
 */
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import { ImError, toHttpError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { DependencyStatus } from './deps';

export interface HealthSource {
  dependencies(): Promise<Record<string, DependencyStatus>>;
  workers(): Record<string, boolean>;
  stats(): Record<string, unknown>;
  draining(): boolean;
}

export function createHttpApp(opts: {
  routers: Router[];
  health: HealthSource;
  metrics: Metrics;
  logger: Logger;
  bodyLimit: number;
  fnLabel: string;
  /** METRICS_ENABLED: false leaves /metrics unserved (404), e.g. when nothing scrapes it. */
  metricsEnabled?: boolean;
}): Express {
  const { health, metrics, logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.get('/health', (_req, res) => {
    res.json({ status: 'healthy', timestamp: new Date().toISOString() });
  });

  app.get('/ready', async (_req, res) => {
    const dependencies = await health.dependencies();
    const workers = health.workers();
    const ok =
      !health.draining() &&
      Object.values(dependencies).every((d) => d.status === 'healthy') &&
      Object.values(workers).every(Boolean);
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ready' : health.draining() ? 'draining' : 'not_ready',
      dependencies: Object.fromEntries(
        Object.entries(dependencies).map(([k, v]) => [k, v.status === 'healthy' ? 'healthy' : `unhealthy: ${v.error}`]),
      ),
      workers: Object.fromEntries(Object.entries(workers).map(([k, v]) => [k, v ? 'running' : 'not_running'])),
    });
  });

  app.get('/stats', (_req, res) => {
    res.json({ uptime_seconds: Math.round(process.uptime()), ...health.stats() });
  });

  if (opts.metricsEnabled ?? true) {
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

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
