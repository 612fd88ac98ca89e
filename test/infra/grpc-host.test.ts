/**
 * The host's plumbing over loopback: a real gRPC server and client, the error table
 * on the wire, trace context from metadata, /health /ready /stats /metrics against
 * the four real dependencies, and a drain that lets an in-flight call finish.
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import {
  GatewayServiceClient,
  GatewayServiceService,
  type PushMessageRequest,
  type PushMessageResponse,
} from '../../shared/gen/gateway/v1/gateway';
import { ImError } from '../../shared/errors';
import { ERROR_CODE_METADATA_KEY, fromGrpcError } from '../../shared/errors/grpc';
import { unary } from '../../shared/runtime/grpc';
import type { Host } from '../../shared/runtime/host';
import type { FunctionDefinition } from '../../shared/runtime/types';
import { startTestHost } from '../support/env';

const seenTraceIds: string[] = [];
let release: () => void = () => undefined;

const echo: FunctionDefinition = {
  name: 'route-private',
  needs: ['mysql', 'redis', 'etcd', 'kafka'],
  async create({ logger, metrics }) {
    const push = unary<PushMessageRequest, PushMessageResponse>(
      'PushMessage',
      async (req) => {
        seenTraceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? '');
        if (req.userId === '') throw new ImError('INVALID_ARGUMENT', 'user_id is empty');
        if (req.userId === 'slow') await new Promise<void>((r) => (release = r));
        return {
          results: req.deviceIds.map((d) => ({ userId: req.userId, deviceId: d, msgId: req.message?.msgId ?? '', delivered: true, reason: '' })),
        };
      },
      { logger, metrics, fn: 'test' },
    );
    return { grpc: [{ definition: GatewayServiceService, implementation: { pushMessage: push, pushBatch: push } }] };
  },
};

function call(client: GatewayServiceClient, req: PushMessageRequest, md = new Metadata()): Promise<PushMessageResponse> {
  return new Promise((resolve, reject) =>
    client.pushMessage(req, md, (err: ServiceError | null, res?: PushMessageResponse) => (err ? reject(err) : resolve(res as PushMessageResponse))),
  );
}

describe('host', () => {
  let host: Host;
  let client: GatewayServiceClient;
  let base: string;

  beforeAll(async () => {
    host = await startTestHost([echo]);
    client = new GatewayServiceClient(`127.0.0.1:${host.grpcPort}`, credentials.createInsecure());
    base = `http://127.0.0.1:${host.httpPort}`;
  });
  afterAll(async () => {
    client.close();
    await host.stop();
  });

  it('answers a gRPC call over loopback', async () => {
    const res = await call(client, { userId: 'u1', deviceIds: ['d1', 'd2'], message: undefined });
    expect(res.results.map((r) => r.deviceId)).toEqual(['d1', 'd2']);
  });

  it('maps an ImError onto the gRPC status and the code trailer', async () => {
    const err = (await call(client, { userId: '', deviceIds: [], message: undefined }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(3); // INVALID_ARGUMENT
    expect(err.metadata.get(ERROR_CODE_METADATA_KEY)).toEqual(['INVALID_ARGUMENT']);
    expect(fromGrpcError(err).message).toBe('user_id is empty');
  });

  it('continues the caller trace from traceparent metadata', async () => {
    const md = new Metadata();
    md.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    await call(client, { userId: 'u2', deviceIds: ['d'], message: undefined }, md);
    expect(seenTraceIds.at(-1)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('serves /health, /ready with every real dependency, /stats and /metrics', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    const body = (await ready.json()) as { status: string; dependencies: Record<string, string> };
    expect(body.dependencies).toEqual({ mysql: 'healthy', redis: 'healthy', etcd: 'healthy', kafka: 'healthy' });
    expect(ready.status).toBe(200);
    const stats = (await (await fetch(`${base}/stats`)).json()) as { functions: string[] };
    expect(stats.functions).toEqual(['route-private']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('im_service_errors_total{fn="test",code="INVALID_ARGUMENT"} 1');
    expect(metrics).toContain('im_service_messages_routed_total');
  });

  it('leaves /metrics unserved with METRICS_ENABLED=false', async () => {
    const quiet = await startTestHost([], { METRICS_ENABLED: 'false', HTTP_PORT: '0', GRPC_PORT: '0' });
    try {
      const res = await fetch(`http://127.0.0.1:${quiet.httpPort}/metrics`);
      expect(res.status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${quiet.httpPort}/health`)).status).toBe(200);
    } finally {
      await quiet.stop();
    }
  });

  it('answers unknown HTTP routes with a coded error, counted', async () => {
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    // No function here serves HTTP routes: nothing reads a body, a POST is just not found.
    const post = await fetch(`${base}/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(post.status).toBe(404);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('im_service_errors_total{fn="route-private",code="NOT_FOUND"} 2');
  });

  it('matches its own endpoints as express routes did: HEAD, trailing slash, query, any case', async () => {
    const head = await fetch(`${base}/health`, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    for (const path of ['/health/', '/health?x=1', '/HEALTH']) expect((await fetch(`${base}${path}`)).status).toBe(200);
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(404);
  });
});

describe('host drain', () => {
  it('lets an in-flight call finish on stop and then refuses new ones', async () => {
    const host = await startTestHost([echo]);
    const client = new GatewayServiceClient(`127.0.0.1:${host.grpcPort}`, credentials.createInsecure());
    const inflight = call(client, { userId: 'slow', deviceIds: ['d'], message: undefined });
    await new Promise((r) => setTimeout(r, 100));
    const stopping = host.stop();
    await new Promise((r) => setTimeout(r, 100));
    release();
    await expect(inflight).resolves.toMatchObject({ results: [{ delivered: true }] });
    await stopping;
    await expect(call(client, { userId: 'u', deviceIds: [], message: undefined })).rejects.toMatchObject({ code: 14 });
    client.close();
  });
});
