/**
 * PushCoalescer over an in-memory pusher (the route tests cover it against real
 * gateway servers): pushes of one turn to one gateway become one PushBatch with the
 * earliest deadline, each caller gets its own devices' results, a lone push stays a
 * PushMessage, gateways never share a batch, failures reach every member; pushes
 * arriving while a call is out wait for it (a second lane opens at laneMinBatch), and a
 * waiting push whose deadline passes is answered not delivered.
 */
import { PushFailure, type GatewayPusher, type PushOptions } from '../../../shared/gateway';
import type { DeviceResult, PushBatchRequest, PushEnvelope, PushMessageRequest } from '../../../shared/gen/gateway/v1/gateway';
import { PushCoalescer } from '../../../functions/route-private/push-coalescer';

const envelope = (msgId: string): PushEnvelope => ({
  msgId,
  senderId: 'alice',
  conversationType: 'private',
  conversationId: 'alice',
  sequenceNumber: 1,
  content: 'hi',
  timestamp: 0,
  serverTime: 0,
  metadata: {},
  recipientId: 'bob',
});

class FakePusher implements GatewayPusher {
  /** When set, calls wait for release() before answering. */
  hold = false;
  readonly #held: (() => void)[] = [];
  release(): void {
    for (const wake of this.#held.splice(0)) wake();
  }
  async #gate(): Promise<void> {
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
  }

  readonly singles: { address: string; req: PushMessageRequest; opts?: PushOptions }[] = [];
  readonly batches: { address: string; req: PushBatchRequest; opts?: PushOptions }[] = [];
  refuse = new Set<string>();
  /** Devices the gateway leaves out of its answer. */
  silent = new Set<string>();
  fail: Error | undefined;

  async pushMessage(address: string, req: PushMessageRequest, opts?: PushOptions): Promise<DeviceResult[]> {
    this.singles.push({ address, req, opts });
    await this.#gate();
    if (this.fail) throw this.fail;
    return req.deviceIds.map((deviceId) => this.#result(req.userId, deviceId, req.message?.msgId ?? ''));
  }

  async pushBatch(address: string, req: PushBatchRequest, opts?: PushOptions): Promise<DeviceResult[]> {
    this.batches.push({ address, req, opts });
    await this.#gate();
    if (this.fail) throw this.fail;
    return req.targets
      .flatMap((t) => t.deviceIds.map((d) => this.#result(t.userId, d, req.messages[t.messageIndex]?.msgId ?? '')))
      .filter((r) => !this.silent.has(r.deviceId))
      .reverse(); // order is not part of the contract
  }

  #result(userId: string, deviceId: string, msgId: string): DeviceResult {
    const delivered = !this.refuse.has(deviceId);
    return { userId, deviceId, msgId, delivered, reason: delivered ? '' : 'DEVICE_NOT_CONNECTED' };
  }
}

const tick = () => new Promise((r) => setImmediate(r));

const push = (c: PushCoalescer, address: string, userId: string, deviceIds: string[], msgId: string, deadline?: number) =>
  c.pushMessage(address, { userId, deviceIds, message: envelope(msgId) }, deadline === undefined ? {} : { deadline });

describe('PushCoalescer', () => {
  it('pushes started together to one gateway go as one PushBatch with the earliest deadline', async () => {
    const fake = new FakePusher();
    fake.refuse.add('tablet');
    const c = new PushCoalescer(fake, { clock: () => 0 }); // deadlines below are small absolute times: none has passed
    const [a, b, d] = await Promise.all([
      push(c, 'gw:1', 'bob', ['phone', 'tablet'], 'm1', 5000),
      push(c, 'gw:1', 'carol', ['phone'], 'm2', 3000),
      push(c, 'gw:1', 'bob', ['phone'], 'm3', 4000),
    ]);
    expect(fake.singles).toHaveLength(0);
    expect(fake.batches).toHaveLength(1);
    expect(fake.batches[0]?.opts).toEqual({ deadline: 3000 });
    expect(fake.batches[0]?.req.messages.map((m) => m.msgId)).toEqual(['m1', 'm2', 'm3']);
    expect(fake.batches[0]?.req.targets).toEqual([
      { userId: 'bob', deviceIds: ['phone', 'tablet'], messageIndex: 0 },
      { userId: 'carol', deviceIds: ['phone'], messageIndex: 1 },
      { userId: 'bob', deviceIds: ['phone'], messageIndex: 2 },
    ]);
    expect(a.map((r) => [r.deviceId, r.msgId, r.delivered])).toEqual([
      ['phone', 'm1', true],
      ['tablet', 'm1', false],
    ]);
    expect(b.map((r) => [r.userId, r.msgId, r.delivered])).toEqual([['carol', 'm2', true]]);
    expect(d.map((r) => [r.userId, r.msgId, r.delivered])).toEqual([['bob', 'm3', true]]);
  });

  it('a lone push stays a PushMessage; later turns make new calls; gateways never share a batch', async () => {
    const fake = new FakePusher();
    const c = new PushCoalescer(fake, { clock: () => 0 }); // deadlines below are small absolute times: none has passed
    await push(c, 'gw:1', 'bob', ['phone'], 'm1', 1000);
    expect(fake.singles.map((s) => [s.address, s.req.message?.msgId, s.opts?.deadline])).toEqual([['gw:1', 'm1', 1000]]);
    await Promise.all([push(c, 'gw:1', 'bob', ['phone'], 'm2'), push(c, 'gw:2', 'carol', ['phone'], 'm3'), push(c, 'gw:2', 'dan', ['phone'], 'm4')]);
    expect(fake.singles.map((s) => s.address)).toEqual(['gw:1', 'gw:1']);
    expect(fake.batches.map((b) => [b.address, b.req.messages.length, b.opts])).toEqual([['gw:2', 2, {}]]);
  });

  it('a device the gateway says nothing about is not delivered (NO_RESULT)', async () => {
    const fake = new FakePusher();
    fake.silent.add('watch');
    const c = new PushCoalescer(fake);
    const [a] = await Promise.all([push(c, 'gw:1', 'bob', ['phone', 'watch'], 'm1'), push(c, 'gw:1', 'carol', ['phone'], 'm2')]);
    expect(a?.map((r) => [r.deviceId, r.delivered, r.reason])).toEqual([
      ['phone', true, ''],
      ['watch', false, PushFailure.NO_RESULT],
    ]);
  });

  it('a failed batch fails every member; a caller with a signal keeps its own call', async () => {
    const fake = new FakePusher();
    fake.fail = new Error('boom');
    const c = new PushCoalescer(fake);
    const settled = await Promise.allSettled([push(c, 'gw:1', 'bob', ['phone'], 'm1'), push(c, 'gw:1', 'carol', ['phone'], 'm2')]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    fake.fail = undefined;
    const signal = new AbortController().signal;
    await Promise.all([
      c.pushMessage('gw:1', { userId: 'bob', deviceIds: ['phone'], message: envelope('m3') }, { signal }),
      c.pushMessage('gw:1', { userId: 'bob', deviceIds: ['phone'], message: envelope('m4') }, { signal }),
    ]);
    expect(fake.singles.map((s) => s.req.message?.msgId)).toEqual(['m3', 'm4']);
  });

  it('pushes arriving while a call is out wait for it and leave together; a second lane opens at laneMinBatch', async () => {
    const fake = new FakePusher();
    fake.hold = true;
    const c = new PushCoalescer(fake, { maxInFlight: 2, laneMinBatch: 3 });
    const first = push(c, 'gw:1', 'bob', ['phone'], 'm1');
    await tick();
    const waiting = [push(c, 'gw:1', 'bob', ['phone'], 'm2'), push(c, 'gw:1', 'carol', ['phone'], 'm3')];
    await tick();
    expect(fake.singles.map((s) => s.req.message?.msgId)).toEqual(['m1']);
    expect(fake.batches).toHaveLength(0);
    const lane = push(c, 'gw:1', 'dan', ['phone'], 'm4'); // three waiting: a second call goes out
    await tick();
    expect(fake.batches.map((b) => b.req.messages.map((m) => m.msgId))).toEqual([['m2', 'm3', 'm4']]);
    const late = push(c, 'gw:1', 'erin', ['phone'], 'm5'); // two calls out (maxInFlight): waits
    await tick();
    expect(fake.singles).toHaveLength(1);
    expect(fake.batches).toHaveLength(1);
    fake.hold = false;
    fake.release();
    await Promise.all([first, ...waiting, lane, late]);
    expect(fake.singles.map((s) => s.req.message?.msgId)).toEqual(['m1', 'm5']);
  });

  it('a waiting push whose deadline passes is answered not delivered (GATEWAY_TIMEOUT)', async () => {
    const fake = new FakePusher();
    fake.hold = true;
    const c = new PushCoalescer(fake);
    const first = push(c, 'gw:1', 'bob', ['phone'], 'm1', Date.now() + 5000);
    await tick();
    const started = Date.now();
    const res = await push(c, 'gw:1', 'carol', ['phone', 'watch'], 'm2', Date.now() + 50);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(res.map((r) => [r.deviceId, r.delivered, r.reason])).toEqual([
      ['phone', false, PushFailure.GATEWAY_TIMEOUT],
      ['watch', false, PushFailure.GATEWAY_TIMEOUT],
    ]);
    fake.release();
    await first;
    expect(fake.singles.map((s) => s.req.message?.msgId)).toEqual(['m1']);
  });
});
