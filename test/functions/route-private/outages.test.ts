/**
 * Outages of route-private's dependencies, each with a host pointed at a port nobody
 * listens on. etcd unreachable: lookups fail with REGISTRY_ERROR within
 * REGISTRY_LOOKUP_TIMEOUT and the message takes the offline path. Kafka unreachable
 * with an offline recipient: nothing can hold the message, so the
 * call fails with KAFKA_ERROR (gRPC UNAVAILABLE) within its deadline and the msg_id
 * claim is released; the gateway's retry once Kafka is back succeeds, with a new
 * sequence number (the first one is a gap), and exactly one record lands.
 */
import { status as GrpcStatus, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fromGrpcError } from '../../../shared/errors/grpc';
import { IMServiceClient, type RoutePrivateMessageRequest, type RoutePrivateMessageResponse } from '../../../shared/gen/im/v1/im';
import { routePrivate } from '../../../functions/route-private/function';
import type { Host } from '../../../shared/runtime/host';
import { startTestHost } from '../../support/env';
import { msgId, startRig, type Rig } from './rig';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('route-private with Kafka down', () => {
  let rig: Rig;
  let broken: Host;
  let client: IMServiceClient;
  beforeAll(async () => {
    rig = await startRig();
    // Same Redis prefix, registry and topic as the rig, but brokers nobody listens on.
    broken = await startTestHost([routePrivate], {
      ...rig.env,
      KAFKA_BROKERS: `127.0.0.1:${await closedPort()}`,
      KAFKA_PRODUCER_TIMEOUT: '1s',
    });
    client = new IMServiceClient(`127.0.0.1:${broken.grpcPort}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await broken?.stop();
    await rig?.stop();
  });

  it('fails with KAFKA_ERROR, releases the claim, and a retry after Kafka is back succeeds once', async () => {
    const alice = await rig.user('alice');
    const bob = await rig.user('bob');
    const req: RoutePrivateMessageRequest = {
      msgId: msgId(),
      senderId: alice,
      recipientId: bob,
      content: 'nobody home',
      timestamp: Date.now(),
      metadata: {},
    };
    const before = await rig.topicCount();

    const started = Date.now();
    const err = await new Promise<ServiceError>((resolve, reject) =>
      client.routePrivateMessage(req, (e, res) => (e ? resolve(e) : reject(new Error(`succeeded: ${JSON.stringify(res)}`)))),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(fromGrpcError(err).code).toBe('KAFKA_ERROR');
    expect((await rig.redisKeys()).filter((k) => k.includes(`claim:route-private:${req.msgId}`))).toEqual([]);
    expect((await rig.statusError(req.msgId)).code).toBe('NOT_FOUND');

    // The gateway retries against a healthy replica.
    const res = await rig.send(req);
    expect(res).toMatchObject({ success: true, status: 'offline' });
    expect(await rig.topicCount()).toBe(before + 1);
    // The failed attempt drew a number that nobody holds: the retry's is the next one.
    const next = await rig.send({ senderId: bob, recipientId: alice });
    expect(next.sequenceNumber).toBe(res.sequenceNumber + 1);
    expect(res.sequenceNumber).toBeGreaterThan(1);
  });

  it('with a deadline shorter than the producer timeout, still answers KAFKA_ERROR before the deadline', async () => {
    const alice = await rig.user('alice2');
    const bob = await rig.user('bob2');
    const err = await new Promise<ServiceError>((resolve, reject) =>
      client.routePrivateMessage(
        { msgId: msgId(), senderId: alice, recipientId: bob, content: 'x', timestamp: 0, metadata: {} },
        new Metadata(),
        { deadline: new Date(Date.now() + 600) },
        (e, res) => (e ? resolve(e) : reject(new Error(`succeeded: ${JSON.stringify(res)}`))),
      ),
    );
    expect(fromGrpcError(err).code).toBe('KAFKA_ERROR');
  });
});

describe('route-private with etcd down', () => {
  let rig: Rig;
  let broken: Host;
  let client: IMServiceClient;
  beforeAll(async () => {
    rig = await startRig();
    broken = await startTestHost([routePrivate], {
      ...rig.env,
      ETCD_ENDPOINTS: `127.0.0.1:${await closedPort()}`,
      REGISTRY_LOOKUP_TIMEOUT: '200ms',
    });
    client = new IMServiceClient(`127.0.0.1:${broken.grpcPort}`, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await broken?.stop();
    await rig?.stop();
  });

  it('a registered recipient cannot be looked up: the message goes to the inbox, within the lookup timeout', async () => {
    const alice = await rig.user('alice');
    const bob = await rig.user('bob');
    const { gw } = await rig.gateway(bob, ['phone']);
    const id = msgId();
    const before = await rig.topicCount();
    const started = Date.now();
    const res = await new Promise<RoutePrivateMessageResponse>((resolve, reject) =>
      client.routePrivateMessage(
        { msgId: id, senderId: alice, recipientId: bob, content: 'etcd is down', timestamp: 0, metadata: {} },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    expect(res).toMatchObject({ success: true, status: 'offline' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(gw.pushesOf(id)).toEqual([]);
    expect(await rig.topicCount()).toBe(before + 1);
    const metrics = await (await fetch(`http://127.0.0.1:${broken.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/im_service_errors_total\{fn="route-private",code="REGISTRY_ERROR"\} 1/);
  });
});
