/**
 * Trace context across the product's hops: W3C traceparent in gRPC metadata and in
 * Kafka record headers. Only the OpenTelemetry API is a dependency; an operator who
 * wants spans exported registers an SDK (e.g. via --require) and these calls record.
 */
import { context, propagation, trace, type Context, type Span, SpanStatusCode } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { Metadata } from '@grpc/grpc-js';

export const tracer = trace.getTracer('im-functions');

let installed = false;
/**
 * Installs the W3C propagator and an AsyncLocalStorage context manager unless an SDK
 * already set them (without a context manager the API's context never crosses an
 * await, so a trace would stop at the first hop). Idempotent.
 */
export function installPropagator(): void {
  if (installed) return;
  installed = true;
  if (propagation.fields().length === 0) propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

export function contextFromGrpc(metadata: Metadata): Context {
  return propagation.extract(context.active(), metadata, {
    keys: (carrier) => Object.keys(carrier.getMap()),
    get: (carrier, key) => {
      const v = carrier.get(key)[0];
      return typeof v === 'string' ? v : undefined;
    },
  });
}

export function injectGrpc(metadata: Metadata, ctx: Context = context.active()): Metadata {
  propagation.inject(ctx, metadata, { set: (carrier, key, value) => carrier.set(key, value) });
  return metadata;
}

export type KafkaHeaders = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

export function contextFromKafka(headers: KafkaHeaders | undefined): Context {
  return propagation.extract(context.active(), headers ?? {}, {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => {
      const v = carrier[key];
      const one = Array.isArray(v) ? v[0] : v;
      return one === undefined ? undefined : one.toString();
    },
  });
}

export function injectKafka(headers: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  propagation.inject(ctx, headers, { set: (carrier, key, value) => (carrier[key] = value) });
  return headers;
}

/** Runs `fn` in a child span of `parent`, recording failure. */
export async function inSpan<T>(name: string, parent: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, undefined, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
