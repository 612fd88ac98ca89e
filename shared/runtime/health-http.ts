/**
 * The host's HTTP request listener, on node:http alone: /health (liveness), /ready (each
 * needed dependency and worker), /stats and /metrics, then the functions' direct GET
 * routes (hot reads served without express's cost); every other request goes to the
 * functions' routes (./http, an express app) or, when no function in the process serves
 * HTTP routes, is answered NOT_FOUND. So route-private, route-group and the consumers
 * start without evaluating express and its dependencies (build.mjs leaves them out of
 * those bundles; docs/deploy.md, "Cold start"). Failures are rendered as the routes
 * render theirs: `{ error: { code, message } }` with the mapped status.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
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

export interface HostHttpOptions {
  health: HealthSource;
  metrics: Metrics;
  logger: Logger;
  fnLabel: string;
  /** METRICS_ENABLED: false leaves /metrics unserved (404), e.g. when nothing scrapes it. */
  metricsEnabled?: boolean;
  /** The functions' HTTP routes, when any function in the process serves some. */
  routes?: RequestListener;
  /** Hot GET routes of those answered here, by path (shared/runtime/types.ts, DirectGetRoute). */
  direct?: ReadonlyMap<string, (req: IncomingMessage, query: ParsedUrlQuery) => Promise<unknown>>;
}

/**
 * A request a direct route may take: GET or HEAD, no body (express would parse one,
 * and may refuse it), and a target of path and query only (no fragment, no white
 * space: express's URL parsing takes a slower, different path for those).
 */
function directCandidate(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.headers['transfer-encoding'] === undefined &&
    req.headers['content-length'] === undefined &&
    /^\/[^#\s\u00a0\ufeff]*$/.test(req.url ?? '')
  );
}

type Endpoint = (res: ServerResponse) => void | Promise<void>;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The path as express routes match it: no query, case-insensitive, one trailing slash optional. */
function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0]?.toLowerCase() ?? '/';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function hostRequestListener(opts: HostHttpOptions): RequestListener {
  const { health, metrics, logger } = opts;
  const fail = (res: ServerResponse, err: unknown): void => {
    const mapped = toHttpError(err);
    metrics.errors.inc({ fn: opts.fnLabel, code: mapped.body.error.code });
    if (mapped.status >= 500) logger.error({ err }, 'http request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    sendJson(res, mapped.status, mapped.body);
  };
  const endpoints = new Map<string, Endpoint>([
    ['/health', (res) => sendJson(res, 200, { status: 'healthy', timestamp: new Date().toISOString() })],
    [
      '/ready',
      async (res) => {
        const dependencies = await health.dependencies();
        const workers = health.workers();
        const ok =
          !health.draining() &&
          Object.values(dependencies).every((d) => d.status === 'healthy') &&
          Object.values(workers).every(Boolean);
        sendJson(res, ok ? 200 : 503, {
          status: ok ? 'ready' : health.draining() ? 'draining' : 'not_ready',
          dependencies: Object.fromEntries(
            Object.entries(dependencies).map(([k, v]) => [k, v.status === 'healthy' ? 'healthy' : `unhealthy: ${v.error}`]),
          ),
          workers: Object.fromEntries(Object.entries(workers).map(([k, v]) => [k, v ? 'running' : 'not_running'])),
        });
      },
    ],
    ['/stats', (res) => sendJson(res, 200, { uptime_seconds: Math.round(process.uptime()), ...health.stats() })],
  ]);
  if (opts.metricsEnabled ?? true) {
    endpoints.set('/metrics', async (res) => {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  }
  return (req: IncomingMessage, res: ServerResponse) => {
    const endpoint = req.method === 'GET' || req.method === 'HEAD' ? endpoints.get(pathOf(req.url)) : undefined;
    if (endpoint) {
      Promise.resolve()
        .then(() => endpoint(res))
        .catch((err: unknown) => fail(res, err));
      return;
    }
    const direct = opts.direct && opts.direct.size > 0 && directCandidate(req) ? opts.direct.get(pathOf(req.url)) : undefined;
    if (direct) {
      const url = req.url as string;
      const q = url.indexOf('?');
      Promise.resolve()
        .then(() => direct(req, parseQuery(q < 0 ? '' : url.slice(q + 1))))
        .then(
          (body) => sendJson(res, 200, body),
          (err: unknown) => fail(res, err),
        );
    } else if (opts.routes) {
      opts.routes(req, res);
    } else {
      fail(res, new ImError('NOT_FOUND', 'no such route'));
    }
  };
}
