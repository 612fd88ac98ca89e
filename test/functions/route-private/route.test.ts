/**
 * route-private over loopback against real Redis, etcd, Kafka, MySQL and real gRPC
 * gateway servers registered in etcd: the fast path to every device, the offline path,
 * gateway trouble falling back to the inbox, GetMessageStatus, per-conversation order.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { eventually } from '../../support/env';
import { msgId, startRig, type Rig } from './rig';

describe('route-private', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('online recipient with two devices on two gateways: both pushed with one sequence number, delivered', async () => {
    const alice = await rig.user('alice');
    const bob = await rig.user('bob');
    const one = await rig.gateway(bob, ['phone']);
    const two = await rig.gateway(bob, ['laptop']);
    const id = msgId();

    const res = await rig.send({ msgId: id, senderId: alice, recipientId: bob, content: 'hi bob', metadata: { kind: 'text' } });

    expect(res).toEqual({ success: true, status: 'delivered', sequenceNumber: expect.any(Number), errorMessage: '' });
    const [p1, p2] = [one.gw.pushesOf(id), two.gw.pushesOf(id)];
    expect(p1.map((p) => p.deviceId)).toEqual(['phone']);
    expect(p2.map((p) => p.deviceId)).toEqual(['laptop']);
    for (const p of [...p1, ...p2]) {
      expect(p.message).toMatchObject({
        msgId: id,
        senderId: alice,
        recipientId: bob,
        conversationType: 'private',
        conversationId: alice,
        sequenceNumber: res.sequenceNumber,
        content: 'hi bob',
        metadata: { kind: 'text' },
      });
    }
    const status = await rig.status(id);
    expect(status.status).toBe('delivered');
    expect(status.deliveredAt).toBeGreaterThan(0);
    expect([...status.deliveredDevices].sort()).toEqual(['laptop', 'phone']);
    // OFFLINE_STORE_POLICY=always: the inbox gets it too, naming the devices that took it.
    const rec = await eventually(async () => (await rig.records()).find((r) => r.msgId === id), 20000);
    expect(rec?.sequenceNumber).toBe(res.sequenceNumber);
    expect([...(rec?.deliveredDevices ?? [])].sort()).toEqual(['laptop', 'phone']);
  });

  it('offline recipient: status offline, the message is on offline_msg with its sequence number', async () => {
    const alice = await rig.user('alice2');
    const carol = await rig.user('carol');
    const id = msgId();

    const res = await rig.send({ msgId: id, senderId: alice, recipientId: carol, content: 'are you there?' });

    expect(res).toMatchObject({ success: true, status: 'offline' });
    const rec = await eventually(async () => (await rig.records()).find((r) => r.msgId === id), 20000);
    expect(rec).toMatchObject({
      senderId: alice,
      recipientId: carol,
      conversationType: 'private',
      sequenceNumber: res.sequenceNumber,
      content: { body: { $case: 'text', value: 'are you there?' } },
      deliveredDevices: [],
    });
    expect(rec?.conversationId.startsWith('p:')).toBe(true);
    expect((await rig.status(id)).status).toBe('pending');
  });

  it('a gateway killed after registration: the call still succeeds through the offline path within its deadline', async () => {
    const alice = await rig.user('alice3');
    const dave = await rig.user('dave');
    const { gw } = await rig.gateway(dave, ['phone']);
    gw.kill();
    const id = msgId();
    const before = await rig.topicCount();

    const started = Date.now();
    const res = await rig.send({ msgId: id, senderId: alice, recipientId: dave }, 2000);

    expect(Date.now() - started).toBeLessThan(2000);
    expect(res).toMatchObject({ success: true, status: 'offline' });
    expect(await rig.topicCount()).toBe(before + 1);
  });

  it('a gateway that hangs: the push gives up at RETRY_TIMEOUT and the message goes to the inbox', async () => {
    const alice = await rig.user('alice4');
    const erin = await rig.user('erin');
    const { gw } = await rig.gateway(erin, ['phone']);
    gw.behaviour.delayMs = 10_000;
    const started = Date.now();
    const res = await rig.send({ msgId: msgId(), senderId: alice, recipientId: erin }, 3000);
    expect(res.status).toBe('offline');
    expect(Date.now() - started).toBeLessThan(1500); // RETRY_TIMEOUT=500ms in the rig
  });

  it('one device refuses, the other takes it: delivered, and only the taker is listed', async () => {
    const alice = await rig.user('alice5');
    const frank = await rig.user('frank');
    const { gw } = await rig.gateway(frank, ['phone', 'tablet']);
    gw.behaviour.refusedDevices.add('tablet');
    const id = msgId();
    const res = await rig.send({ msgId: id, senderId: alice, recipientId: frank });
    expect(res.status).toBe('delivered');
    expect((await rig.status(id)).deliveredDevices).toEqual(['phone']);
  });

  it('every device refuses: offline', async () => {
    const alice = await rig.user('alice6');
    const gina = await rig.user('gina');
    const { gw } = await rig.gateway(gina, ['phone']);
    gw.behaviour.failWith = GrpcStatus.UNAVAILABLE;
    const res = await rig.send({ msgId: msgId(), senderId: alice, recipientId: gina });
    expect(res.status).toBe('offline');
  });

  it('a note to self reaches the sender\'s own devices', async () => {
    const hank = await rig.user('hank');
    const { gw } = await rig.gateway(hank, ['phone']);
    const id = msgId();
    const res = await rig.send({ msgId: id, senderId: hank, recipientId: hank });
    expect(res.status).toBe('delivered');
    expect(gw.pushesOf(id)).toHaveLength(1);
  });

  it('a→b and b→a share one strictly increasing counter; other pairs count on their own', async () => {
    const a = await rig.user('pa');
    const b = await rig.user('pb');
    const c = await rig.user('pc');
    const ab: number[] = [];
    const ac: number[] = [];
    for (let i = 0; i < 10; i++) {
      ab.push((await rig.send({ senderId: i % 2 === 0 ? a : b, recipientId: i % 2 === 0 ? b : a })).sequenceNumber);
      if (i % 3 === 0) ac.push((await rig.send({ senderId: c, recipientId: a })).sequenceNumber);
    }
    for (let i = 1; i < ab.length; i++) expect(ab[i]).toBeGreaterThan(ab[i - 1] as number);
    for (let i = 1; i < ac.length; i++) expect(ac[i]).toBeGreaterThan(ac[i - 1] as number);
    // Each counter advances only for its own conversation: one step per message.
    expect((ab.at(-1) as number) - (ab[0] as number)).toBe(9);
    expect((ac.at(-1) as number) - (ac[0] as number)).toBe(3);
    // Concurrent senders in both directions still never share a number.
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => rig.send({ senderId: i % 2 ? a : b, recipientId: i % 2 ? b : a })),
    );
    const numbers = burst.map((r) => r.sequenceNumber);
    expect(new Set(numbers).size).toBe(30);
    expect(Math.min(...numbers)).toBeGreaterThan(ab.at(-1) as number);
  });

  it('GetMessageStatus of an unknown msg_id: NOT_FOUND with a clear message; a malformed one: INVALID_ARGUMENT', async () => {
    const err = await rig.statusError(msgId());
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toMatch(/no status for msg_id/);
    expect((await rig.statusError('')).code).toBe('INVALID_ARGUMENT');
    expect((await rig.statusError('bad id with spaces')).code).toBe('INVALID_ARGUMENT');
  });

  it('exposes routed totals by path and the latency histogram on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${rig.host.httpPort}/metrics`)).text();
    expect(text).toMatch(/im_service_messages_routed_total\{type="private",path="fast"\} [1-9]/);
    expect(text).toMatch(/im_service_messages_routed_total\{type="private",path="offline"\} [1-9]/);
    expect(text).toMatch(/im_service_routing_latency_count\{type="private"\} [1-9]/);
    expect(text).toMatch(/im_service_gateway_pushes_total\{outcome="delivered"\} [1-9]/);
  });
});
