/**
 * What a function is to its host: a name, the dependencies it needs, and a factory
 * that receives everything explicitly (config, clients, logger, metrics) and returns
 * what to serve — gRPC services, HTTP routes, background workers. The same definition
 * runs alone in its container or with the others in the local process.
 */
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

export interface FunctionInstance {
  readonly grpc?: GrpcService[];
  /** Mounted on the host's HTTP app (routes carry their full paths). */
  readonly http?: Router;
  readonly workers?: Worker[];
  stats?(): Record<string, unknown>;
  close?(): Promise<void>;
}

export interface FunctionDefinition {
  readonly name: FunctionName;
  readonly needs: readonly DependencyName[];
  create(ctx: FunctionContext): Promise<FunctionInstance>;
}
