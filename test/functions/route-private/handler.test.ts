/**
 * RoutePrivateHandler's decisions over in-memory ports (the integration tests cover
 * the same paths against the real servers; these pin the corner cases that are hard to
 * provoke there): waiting for a concurrent duplicate, taking over a released claim,
 * the store policies, and which failures still answer success.
 */
import type { ClaimResult, CompleteResult } from '../../../shared/dedup';
import { ImError } from '../../../shared/errors';
import type { DeviceResult, PushMessageRequest } from '../../../shared/gen/gateway/v1/gateway';
import type { OfflineMessage } from '../../../shared/gen/im/events/v1/events';
import type { RoutePrivateMessageRequest } from '../../../shared/gen/im/v1/im';
import { createMetrics } from '../../../shared/observability/metrics';
import type { CallContext } from '../../../shared/runtime/grpc';
import { RoutePrivateHandler } from '../../../functions/route-private/handler';
import type { RouteOutcome, RoutePrivatePorts, RouteSettings } from '../../../functions/route-private/ports';
import { testLogger } from '../../support/env';

class FakeClaims {
  readonly records = new Map<string, { fp: string; outcome?: RouteOutcome; token: string }>();
  /** Replies to hand out before consulting the records (e.g. in_progress a few times). */
  readonly scripted: ClaimResult<RouteOutcome>[] = [];
  released = 0;
  async claim(msgId: string, fp: string): Promise<ClaimResult<RouteOutcome>> {
    const next = this.scripted.shift();
    if (next) return next;
    const r = this.records.get(msgId);
    if (!r) {
      this.records.set(msgId, { fp, token: 't' });
      return { kind: 'claimed', token: 't' };
    }
    if (r.fp !== fp) return { kind: 'conflict' };
    return r.outcome ? { kind: 'completed', outcome: r.outcome } : { kind: 'in_progress' };
  }
  async complete(msgId: string, fp: string, outcome: RouteOutcome): Promise<CompleteResult<RouteOutcome>> {
    const r = this.records.get(msgId);
    if (r?.outcome) return { kind: 'already_completed', outcome: r.outcome };
    this.records.set(msgId, { fp, outcome, token: 't' });
    return { kind: 'stored', outcome };
  }
  async release(msgId: string): Promise<boolean> {
    this.released += 1;
    return this.records.delete(msgId);
  }
}

function setup(over: { settings?: Partial<RouteSettings>; devices?: () => Promise<{ deviceId: string }[]>; delivered?: boolean } = {}) {
  const claims = new FakeClaims();
  const published: OfflineMessage[] = [];
  const pushes: PushMessageRequest[] = [];
  const marks: string[] = [];
  let seq = 0;
  const metrics = createMetrics();
  const fail = { publish: undefined as Error | undefined, status: false };
  const ports: RoutePrivatePorts = {
    recipients: { exists: async (u) => u !== 'ghost' },
    claims,
    sequences: { next: async () => ++seq },
    filter: { apply: (t) => t },
    sealer: { seal: async (text) => ({ body: { $case: 'text', value: text } }) },
    devices: {
      lookup: async (userId) =>
        (await (over.devices ?? (async () => []))()).map((d) => ({ userId, deviceId: d.deviceId, gatewayAddress: 'gw:1', registeredAt: 0 })),
    },
    gateway: {
      pushMessage: async (_a, req): Promise<DeviceResult[]> => {
        pushes.push(req);
        return req.deviceIds.map((deviceId) => ({ userId: req.userId, deviceId, msgId: req.message?.msgId ?? '', delivered: over.delivered ?? true, reason: '' }));
      },
      pushBatch: async () => [],
    },
    offline: {
      publish: async (m) => {
        if (fail.publish) throw fail.publish;
        published.push(m);
      },
    },
    status: {
      get: async () => undefined,
      markPending: async (id) => (fail.status ? Promise.reject(new Error('redis down')) : marks.push(`pending:${id}`)),
      markFailed: async (id) => marks.push(`failed:${id}`),
      markDelivered: async (id, devices) => (fail.status ? Promise.reject(new Error('redis down')) : marks.push(`delivered:${id}:${devices.join(',')}`)),
    },
    metrics,
    logger: testLogger(),
    clock: Date.now,
    settings: { maxMessageSize: 10240, offlineStorePolicy: 'always', pushBudgetMs: 500, claimWaitMs: 200, publishTimeoutMs: 1000, ...over.settings },
  };
  return { handler: new RoutePrivateHandler(ports), claims, published, pushes, marks, fail, metrics };
}

const call = (ms = 5000): CallContext => ({ deadline: Date.now() + ms, signal: new AbortController().signal });
const req = (over: Partial<RoutePrivateMessageRequest> = {}): RoutePrivateMessageRequest => ({
  msgId: 'm1',
  senderId: 'alice',
  recipientId: 'bob',
  content: 'hi',
  timestamp: 1,
  metadata: {},
  ...over,
});

describe('RoutePrivateHandler', () => {
  it('a duplicate that finds the msg_id in progress waits for the first outcome', async () => {
    const t = setup();
    await t.handler.route(req(), call());
    t.claims.scripted.push({ kind: 'in_progress' }, { kind: 'in_progress' });
    const res = await t.handler.route(req(), call());
    expect(res).toEqual({ success: true, status: 'offline', sequenceNumber: 1, errorMessage: '' });
    expect(t.published).toHaveLength(1);
  });

  it('a duplicate takes over when the first request released its claim', async () => {
    const t = setup();
    t.claims.scripted.push({ kind: 'in_progress' });
    const res = await t.handler.route(req(), call());
    expect(res.sequenceNumber).toBe(1);
  });

  it('a duplicate still in progress after DEDUP_IN_PROGRESS_WAIT answers ROUTING_FAILED (retryable)', async () => {
    const t = setup({ settings: { claimWaitMs: 60 } });
    t.claims.records.set('m1', { fp: '', token: 'x' });
    for (let i = 0; i < 100; i++) t.claims.scripted.push({ kind: 'in_progress' });
    const started = Date.now();
    await expect(t.handler.route(req(), call())).rejects.toMatchObject({ code: 'ROUTING_FAILED', retryable: true });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('offline-only: a delivered message is not published; an undelivered one is', async () => {
    const online = setup({ settings: { offlineStorePolicy: 'offline-only' }, devices: async () => [{ deviceId: 'd1' }] });
    expect((await online.handler.route(req(), call())).status).toBe('delivered');
    expect(online.published).toHaveLength(0);
    const offline = setup({ settings: { offlineStorePolicy: 'offline-only' }, devices: async () => [{ deviceId: 'd1' }], delivered: false });
    expect((await offline.handler.route(req(), call())).status).toBe('offline');
    expect(offline.published).toHaveLength(1);
  });

  it('always: a delivered message is published too, naming the devices that took it', async () => {
    const t = setup({ devices: async () => [{ deviceId: 'd1' }, { deviceId: 'd2' }] });
    expect((await t.handler.route(req(), call())).status).toBe('delivered');
    expect(t.published[0]?.deliveredDevices).toEqual(['d1', 'd2']);
    expect(t.marks).toEqual(['delivered:m1:d1,d2']);
  });

  it('a registry outage takes the offline path and is counted', async () => {
    const t = setup({ devices: () => Promise.reject(new ImError('REGISTRY_ERROR', 'etcd down')) });
    expect((await t.handler.route(req(), call())).status).toBe('offline');
    expect(t.published).toHaveLength(1);
    const errors = (await t.metrics.errors.get()).values.find((v) => v.labels['code'] === 'REGISTRY_ERROR');
    expect(errors?.value).toBe(1);
  });

  it('Kafka failing after a device took the message still answers delivered (a retry would push again)', async () => {
    const t = setup({ devices: async () => [{ deviceId: 'd1' }] });
    t.fail.publish = new ImError('KAFKA_ERROR', 'down');
    expect((await t.handler.route(req(), call())).status).toBe('delivered');
    expect(t.claims.released).toBe(0);
  });

  it('Kafka failing with no device reached: KAFKA_ERROR and the claim is released', async () => {
    const t = setup();
    t.fail.publish = new ImError('KAFKA_ERROR', 'down');
    await expect(t.handler.route(req(), call())).rejects.toMatchObject({ code: 'KAFKA_ERROR' });
    expect(t.claims.released).toBe(1);
    expect(t.claims.records.size).toBe(0);
  });

  it('a failed status write does not fail a routed message', async () => {
    const t = setup();
    t.fail.status = true;
    expect((await t.handler.route(req(), call())).success).toBe(true);
  });

  it('a claim that expired and was completed by another request: that answer stands', async () => {
    const t = setup();
    const original = t.claims.complete.bind(t.claims);
    t.claims.complete = async (id, fp) => original(id, fp, { kind: 'routed', status: 'delivered', sequenceNumber: 42 }).then(() =>
      original(id, fp, { kind: 'routed', status: 'offline', sequenceNumber: 1 }),
    );
    expect(await t.handler.route(req(), call())).toMatchObject({ status: 'delivered', sequenceNumber: 42 });
  });

  it('unknown recipient: INVALID_RECIPIENT before any claim', async () => {
    const t = setup();
    await expect(t.handler.route(req({ recipientId: 'ghost' }), call())).rejects.toMatchObject({ code: 'INVALID_RECIPIENT' });
    expect(t.claims.records.size).toBe(0);
  });

  it('no time left for Kafka: ROUTING_FAILED, claim released', async () => {
    const t = setup();
    await expect(t.handler.route(req(), call(10))).rejects.toMatchObject({ code: 'ROUTING_FAILED' });
    expect(t.claims.released).toBe(1);
  });
});
