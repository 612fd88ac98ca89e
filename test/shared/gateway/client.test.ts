/**
 * GatewayClient against real gRPC gateway servers on loopback: per-device results,
 * failures that never throw, retries bounded by attempts and by the caller's deadline,
 * the circuit breaker per gateway, idle channels closed.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { PushEnvelope } from '../../../shared/gen/gateway/v1/gateway';
import { GatewayClient, PushFailure, type GatewayClientOptions } from '../../../shared/gateway';
import { createMetrics, type Metrics } from '../../../shared/observability/metrics';
import { TestGateway } from '../../support/gateway-server';

const envelope = (msgId: string): PushEnvelope => ({
  msgId,
  senderId: 'alice',
  conversationType: 'private',
  conversationId: 'alice',
  sequenceNumber: 7,
  content: 'hi',
  timestamp: 1,
  serverTime: 2,
  metadata: {},
  recipientId: 'bob',
});

const OPTIONS: GatewayClientOptions = {
  retryTimeoutMs: 300,
  maxAttempts: 3,
  retryBaseBackoffMs: 10,
  breakerThreshold: 5,
  breakerCooldownMs: 60_000,
  channelIdleMs: 60_000,
};

async function closedPort(): Promise<string> {
  const gw = await TestGateway.start();
  const address = gw.address;
  await gw.stop();
  return address;
}

const pushesMetric = async (metrics: Metrics) =>
  Object.fromEntries((await metrics.pushes.get()).values.map((v) => [String(v.labels['outcome']), v.value]));

describe('GatewayClient', () => {
  const gateways: TestGateway[] = [];
  const clients: GatewayClient[] = [];
  const gateway = async () => {
    const gw = await TestGateway.start();
    gateways.push(gw);
    return gw;
  };
  const client = (opts: Partial<GatewayClientOptions> = {}, metrics = createMetrics(), clock?: () => number) => {
    const c = new GatewayClient({ ...OPTIONS, ...opts }, metrics, clock);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(gateways.splice(0).map((g) => g.stop()));
  });

  it('pushes one message to several devices and answers per device', async () => {
    const gw = await gateway();
    gw.behaviour.refusedDevices.add('tablet');
    const metrics = createMetrics();
    const results = await client({}, metrics).pushMessage(gw.address, {
      userId: 'bob',
      deviceIds: ['phone', 'tablet', 'laptop'],
      message: envelope('m1'),
    });
    expect(results).toEqual([
      { userId: 'bob', deviceId: 'phone', msgId: 'm1', delivered: true, reason: '' },
      { userId: 'bob', deviceId: 'tablet', msgId: 'm1', delivered: false, reason: 'DEVICE_NOT_CONNECTED' },
      { userId: 'bob', deviceId: 'laptop', msgId: 'm1', delivered: true, reason: '' },
    ]);
    expect(gw.pushesOf('m1').map((p) => [p.deviceId, p.message.sequenceNumber])).toEqual([
      ['phone', 7],
      ['laptop', 7],
    ]);
    expect(await pushesMetric(metrics)).toEqual({ delivered: 2, undelivered: 1 });
  });

  it('pushes a batch of messages to many users in one call', async () => {
    const gw = await gateway();
    const results = await client().pushBatch(gw.address, {
      messages: [envelope('g1'), envelope('g2')],
      targets: [
        { userId: 'u1', deviceIds: ['d1', 'd2'], messageIndex: 0 },
        { userId: 'u2', deviceIds: ['d3'], messageIndex: 1 },
      ],
    });
    expect(results.map((r) => [r.userId, r.deviceId, r.msgId, r.delivered])).toEqual([
      ['u1', 'd1', 'g1', true],
      ['u1', 'd2', 'g1', true],
      ['u2', 'd3', 'g2', true],
    ]);
    expect(gw.calls).toBe(1);
  });

  it('a gateway that is not there: every device undelivered, no throw, fast', async () => {
    const address = await closedPort();
    const metrics = createMetrics();
    const started = Date.now();
    const results = await client({}, metrics).pushMessage(address, { userId: 'bob', deviceIds: ['a', 'b'], message: envelope('m2') });
    expect(results.map((r) => [r.deviceId, r.delivered, r.reason])).toEqual([
      ['a', false, PushFailure.GATEWAY_UNAVAILABLE],
      ['b', false, PushFailure.GATEWAY_UNAVAILABLE],
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await pushesMetric(metrics)).toEqual({ error: 2 });
  });

  it('retries an UNAVAILABLE gateway at most MAX_RETRY_ATTEMPTS times', async () => {
    const gw = await gateway();
    gw.behaviour.failWith = GrpcStatus.UNAVAILABLE;
    const results = await client({ maxAttempts: 3 }).pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('m3') });
    expect(results[0]).toMatchObject({ delivered: false, reason: PushFailure.GATEWAY_UNAVAILABLE });
    expect(gw.calls).toBe(3);
  });

  it('does not retry what retrying cannot fix', async () => {
    const gw = await gateway();
    gw.behaviour.failWith = GrpcStatus.INVALID_ARGUMENT;
    const results = await client().pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('m4') });
    expect(results[0]).toMatchObject({ delivered: false, reason: PushFailure.GATEWAY_ERROR });
    expect(gw.calls).toBe(1);
  });

  it('a slow gateway: each attempt ends at RETRY_TIMEOUT and the whole push at the caller deadline', async () => {
    const gw = await gateway();
    gw.behaviour.delayMs = 5000;
    const c = client({ retryTimeoutMs: 100, maxAttempts: 5, retryBaseBackoffMs: 1 });
    const started = Date.now();
    const results = await c.pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('m5') }, { deadline: started + 250 });
    const took = Date.now() - started;
    expect(results[0]).toMatchObject({ delivered: false, reason: PushFailure.GATEWAY_TIMEOUT });
    expect(took).toBeGreaterThanOrEqual(200);
    expect(took).toBeLessThan(400);
    expect(gw.calls).toBeGreaterThanOrEqual(2);
    expect(gw.calls).toBeLessThanOrEqual(3);
  });

  it('never waits past a caller deadline shorter than RETRY_TIMEOUT', async () => {
    const gw = await gateway();
    gw.behaviour.delayMs = 5000;
    const started = Date.now();
    await client({ retryTimeoutMs: 5000 }).pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('m6') }, { deadline: started + 80 });
    expect(Date.now() - started).toBeLessThan(300);
    expect(gw.calls).toBe(1);
  });

  it('opens the circuit after the threshold, skips the gateway while open, probes after the cooldown', async () => {
    const gw = await gateway();
    gw.behaviour.failWith = GrpcStatus.UNAVAILABLE;
    let now = 1_000_000;
    const c = client({ maxAttempts: 1, breakerThreshold: 2, breakerCooldownMs: 10_000 }, createMetrics(), () => now);
    const push = (id: string) => c.pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope(id) });
    await push('b1');
    await push('b2');
    expect(gw.calls).toBe(2);
    expect(c.stats().openCircuits).toEqual([gw.address]);
    expect((await push('b3'))[0]?.reason).toBe(PushFailure.CIRCUIT_OPEN);
    expect(gw.calls).toBe(2);
    now += 10_000;
    gw.behaviour.failWith = undefined;
    expect((await push('b4'))[0]?.delivered).toBe(true);
    expect(gw.calls).toBe(3);
    expect(c.stats().openCircuits).toEqual([]);
  });

  it('keeps circuits apart per gateway', async () => {
    const bad = await gateway();
    const good = await gateway();
    bad.behaviour.failWith = GrpcStatus.UNAVAILABLE;
    const c = client({ maxAttempts: 1, breakerThreshold: 1 });
    await c.pushMessage(bad.address, { userId: 'bob', deviceIds: ['a'], message: envelope('c1') });
    const results = await c.pushMessage(good.address, { userId: 'bob', deviceIds: ['a'], message: envelope('c2') });
    expect(results[0]?.delivered).toBe(true);
    expect(c.stats().openCircuits).toEqual([bad.address]);
  });

  it('a cancelled caller stops the push', async () => {
    const gw = await gateway();
    gw.behaviour.delayMs = 5000;
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const results = await client().pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('x1') }, { signal: abort.signal });
    expect(results[0]?.reason).toBe(PushFailure.CANCELLED);
  });

  it('closes channels that stay idle and reopens on the next push', async () => {
    const gw = await gateway();
    let now = 0;
    const c = client({ channelIdleMs: 1000 }, createMetrics(), () => now);
    await c.pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('i1') });
    expect(c.stats().channels).toBe(1);
    now += 1000;
    // The pool's own sweeper runs every idle/2 of real time and reads the injected clock.
    await new Promise((r) => setTimeout(r, 700));
    expect(c.stats().channels).toBe(0);
    const again = await c.pushMessage(gw.address, { userId: 'bob', deviceIds: ['a'], message: envelope('i2') });
    expect(again[0]?.delivered).toBe(true);
  });
});
