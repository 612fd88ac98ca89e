/**
 * What a function is to its host: a name, the dependencies it needs, and a factory
 * that receives everything explicitly (config, clients, logger, metrics) and returns
 * what to serve — gRPC services, HTTP routes, background workers. The same definition
 * runs alone in its container or with the others in the local process.
 */
import type { IncomingMessage } from 'node:http';
import type { ParsedUrlQuery } from 'node:querystring';
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Router } from 'express';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Dependencies, DependencyName } from './deps';

export const FUNCTION_NAMES = [
  'route-private',
  'route-group',
  'fanout-group',
  'persist-offline',
  'mark-read',
  'cleanup-expired',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface FunctionContext {
  readonly config: Config;
  readonly deps: Dependencies;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** A long-running piece of work (a Kafka consumer, a timer) the host starts and drains. */
export interface Worker {
  readonly name: string;
  start(): Promise<void>;
  /** Stops taking new work and finishes (or cleanly abandons) what is in flight. */
  stop(): Promise<void>;
  /** False while the worker cannot make progress (e.g. consumer not joined). */
  ready(): boolean;
  stats?(): Record<string, unknown>;
}

export interface GrpcService {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/**
 * A GET route the host answers on node:http itself, before express, for a read hot
 * enough that express's own cost matters: about 170 µs of CPU a request on the bench
 * machine (node:http answering a fixed JSON body took 42 µs, express 5 with the same
 * nesting of routers 210 µs), more than the unread count's own work. Its function serves the same path in `http` too, and the
 * two must behave alike: the host hands a direct route only bodiless GET/HEAD requests
 * with a plain target, and renders what it returns as a 200 JSON answer and what it
 * throws as the express error handler does.
 */
export interface DirectGetRoute {
  /** The exact path, lower case, without a trailing slash (matched as express matches). */
  readonly path: string;
  /** `query` is parsed as express's "simple" query parser does (node:querystring). */
  handle(req: IncomingMessage, query: ParsedUrlQuery): Promise<unknown>;
}

export interface FunctionInstance {
  readonly grpc?: GrpcService[];
  /** Mounted on the host's HTTP app (routes carry their full paths). */
  readonly http?: Router;
  /** Hot GET routes of `http` also answered before express (see DirectGetRoute). */
  readonly directGet?: readonly DirectGetRoute[];
  readonly workers?: Worker[];
  stats?(): Record<string, unknown>;
  close?(): Promise<void>;
}

export interface FunctionDefinition {
  readonly name: FunctionName;
  readonly needs: readonly DependencyName[];
  create(ctx: FunctionContext): Promise<FunctionInstance>;
}
