/**
 * A host runs one or more functions in one process: it builds the clients they need
 * once, serves their gRPC services on one port and their HTTP routes (plus /health,
 * /ready, /stats, /metrics) on another, starts their workers, and on stop drains in
 * order — stop accepting, finish in-flight calls and batches, close clients.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Router } from 'express';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { installPropagator } from '../observability/tracing';
import { Dependencies, type DependencyName, type DependencyStatus } from './deps';
import { startGrpcServer, stopGrpcServer } from './grpc';
import { hostRequestListener } from './health-http';
import { createRoutesApp } from './http';
import type { DirectGetRoute, FunctionDefinition, FunctionInstance, GrpcService, Worker } from './types';

export interface HostOptions {
  config: Config;
  logger: Logger;
  functions: readonly FunctionDefinition[];
  metrics?: Metrics;
}

export class Host {
  readonly deps: Dependencies;
  readonly metrics: Metrics;
  #instances: FunctionInstance[] = [];
  #workers: Worker[] = [];
  #http?: HttpServer;
  #grpc?: GrpcServer;
  #draining = false;
  #stopping?: Promise<void>;
  grpcPort = 0;
  httpPort = 0;

  constructor(private readonly opts: HostOptions) {
    installPropagator();
    this.metrics = opts.metrics ?? createMetrics();
    this.deps = new Dependencies(opts.config, opts.logger);
  }

  get needs(): DependencyName[] {
    return [...new Set(this.opts.functions.flatMap((f) => f.needs))];
  }

  async start(): Promise<void> {
    const { config, logger } = this.opts;
    for (const def of this.opts.functions) {
      const instance = await def.create({
        config,
        deps: this.deps,
        logger: logger.child({ fn: def.name }),
        metrics: this.metrics,
      });
      this.#instances.push(instance);
      this.#workers.push(...(instance.workers ?? []));
    }
    const fnLabel = this.opts.functions.map((f) => f.name).join(',');
    const routers = this.#instances.flatMap((i) => (i.http ? [i.http as Router] : []));
    const direct = new Map<string, DirectGetRoute['handle']>();
    for (const route of this.#instances.flatMap((i) => i.directGet ?? [])) {
      if (direct.has(route.path)) throw new Error(`two functions answer GET ${route.path} directly`);
      direct.set(route.path, (req, query) => route.handle(req, query));
    }
    const listener = hostRequestListener({
      health: {
        dependencies: () => this.dependencies(),
        workers: () => Object.fromEntries(this.#workers.map((w) => [w.name, w.ready()])),
        stats: () => this.stats(),
        draining: () => this.#draining,
      },
      metrics: this.metrics,
      logger,
      fnLabel,
      metricsEnabled: config.observability.metricsEnabled,
      direct,
      // Only a process with HTTP routes builds (and a bundle carries) the express app.
      ...(routers.length > 0
        ? { routes: createRoutesApp({ routers, metrics: this.metrics, logger, bodyLimit: config.server.httpBodyLimit, fnLabel }) }
        : {}),
    });
    this.#http = await new Promise<HttpServer>((resolve, reject) => {
      const s = createServer(listener);
      s.once('error', reject);
      s.listen(config.server.httpPort, () => resolve(s));
    });
    this.httpPort = (this.#http.address() as AddressInfo).port;

    const services = mergeServices(this.#instances.flatMap((i) => i.grpc ?? []));
    if (services.length > 0) {
      const { server, port } = await startGrpcServer(services, config.server.grpcPort);
      this.#grpc = server;
      this.grpcPort = port;
    }
    for (const w of this.#workers) await w.start();
    logger.info(
      { functions: this.opts.functions.map((f) => f.name), http: this.httpPort, grpc: this.grpcPort || undefined },
      'host started',
    );
  }

  async dependencies(): Promise<Record<string, DependencyStatus>> {
    const names = this.needs;
    const results = await Promise.all(names.map((n) => this.deps.check(n)));
    return Object.fromEntries(names.map((n, i) => [n, results[i] as DependencyStatus]));
  }

  stats(): Record<string, unknown> {
    return {
      functions: this.opts.functions.map((f) => f.name),
      workers: Object.fromEntries(this.#workers.map((w) => [w.name, w.stats?.() ?? { ready: w.ready() }])),
      ...Object.assign({}, ...this.#instances.map((i) => i.stats?.() ?? {})),
    };
  }

  /** Graceful stop; idempotent. Resolves when everything is drained and closed. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { logger, config } = this.opts;
    this.#draining = true;
    logger.info('draining');
    const budget = config.server.shutdownTimeoutMs;
    await Promise.all([
      this.#grpc ? stopGrpcServer(this.#grpc, budget) : Promise.resolve(),
      ...this.#workers.map((w) =>
        w.stop().catch((err: unknown) => logger.error({ err, worker: w.name }, 'worker stop failed')),
      ),
    ]);
    for (const i of this.#instances) {
      await i.close?.().catch((err: unknown) => logger.error({ err }, 'function close failed'));
    }
    await new Promise<void>((resolve) => {
      if (!this.#http) return resolve();
      this.#http.close(() => resolve());
      this.#http.closeIdleConnections();
      setTimeout(() => {
        this.#http?.closeAllConnections();
        resolve();
      }, Math.min(budget, 5000)).unref();
    });
    await this.deps.close();
    logger.info('stopped');
  }
}

/**
 * route-private and route-group each implement part of im.v1.IMService; in one
 * process their halves are served as one service (grpc-js answers UNIMPLEMENTED for
 * a method no function provides).
 */
function mergeServices(services: GrpcService[]): GrpcService[] {
  const merged = new Map<GrpcService['definition'], GrpcService>();
  for (const s of services) {
    const prev = merged.get(s.definition);
    merged.set(s.definition, {
      definition: s.definition,
      implementation: { ...(prev?.implementation ?? {}), ...s.implementation },
    });
  }
  return [...merged.values()];
}
