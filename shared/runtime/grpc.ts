/**
 * gRPC hosting: turns plain async handlers into grpc-js unary handlers that carry
 * trace context from metadata, count errors by code, and map every failure onto a gRPC
 * status through the one error table.
 */
import {
  Server,
  ServerCredentials,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { context } from '@opentelemetry/api';
import { asImError } from '../errors';
import { toGrpcError } from '../errors/grpc';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { contextFromGrpc, inSpan } from '../observability/tracing';
import type { GrpcService } from './types';

/** What a handler sees of the call besides its request. */
export interface CallContext {
  /** Absolute deadline in ms since epoch (Infinity when the caller set none). */
  readonly deadline: number;
  readonly signal: AbortSignal;
}

export type UnaryHandler<Req, Res> = (request: Req, call: CallContext) => Promise<Res>;

export function unary<Req, Res>(
  method: string,
  handler: UnaryHandler<Req, Res>,
  deps: { logger: Logger; metrics: Metrics; fn: string },
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const parent = contextFromGrpc(call.metadata);
    const raw = call.getDeadline();
    const deadline = raw instanceof Date ? raw.getTime() : Number.isFinite(raw) && raw > 0 ? raw : Infinity;
    const abort = new AbortController();
    const cancelled = (): void => abort.abort();
    call.on('cancelled', cancelled);
    void context.with(parent, () =>
      inSpan(method, parent, () => handler(call.request, { deadline, signal: abort.signal })),
    ).then(
      (res) => {
        // grpc-js reports 'cancelled' at every stream close, answered or not: aborting then
        // would cost an AbortError per call and tell nobody anything.
        call.off('cancelled', cancelled);
        callback(null, res);
      },
      (err: unknown) => {
        call.off('cancelled', cancelled);
        const e = asImError(err);
        deps.metrics.errors.inc({ fn: deps.fn, code: e.code });
        if (e.code === 'INTERNAL') deps.logger.error({ err, method }, 'grpc call failed');
        callback(toGrpcError(e) as ServiceError, null);
      },
    );
  };
}

export async function startGrpcServer(services: GrpcService[], port: number): Promise<{ server: Server; port: number }> {
  const server = new Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    // Nothing here serves channelz, and its per-call bookkeeping is a measurable share of a call.
    'grpc.enable_channelz': 0,
  });
  for (const s of services) server.addService(s.definition, s.implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`0.0.0.0:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port: bound };
}

/** Stops taking calls, lets in-flight ones finish until `timeoutMs`, then forces. */
export function stopGrpcServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
