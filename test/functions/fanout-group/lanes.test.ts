/**
 * Gateway lanes and the coalescing of queued PushBatch requests (pure logic, with an
 * in-process pusher standing in for the gateway port): a merged call carries each
 * message once and every target, and each request gets back exactly the results it
 * would have got alone, in its own order, whatever order the gateway answers in; a busy
 * lane merges what queued behind it up to its device limit; batches past their deadline
 * are shed.
 */
import fc from 'fast-check';
import type { GatewayPusher, PushOptions } from '../../../shared/gateway';
import type { DeviceResult, PushBatchRequest, PushEnvelope } from '../../../shared/gen/gateway/v1/gateway';
import { deviceCount, mergeRequests, splitResults } from '../../../functions/fanout-group/coalesce';
import { GatewayLanes, SHED_REASON } from '../../../functions/fanout-group/lanes';

const envelope = (msgId: string, content = 'hi'): PushEnvelope => ({
  msgId,
  senderId: 's',
  conversationType: 'group',
  conversationId: 'g',
  sequenceNumber: 1,
  content,
  timestamp: 0,
  serverTime: 0,
  metadata: {},
  recipientId: '',
});

/** The gateway's verdict for one device: deterministic, so "alone" and "merged" can be compared. */
const verdict = (msgId: string, userId: string, deviceId: string): boolean => (msgId.length + userId.length + deviceId.length) % 3 !== 0;

/** What a gateway answers to a request: one result per device, in `order` (a permutation seed). */
function answer(req: PushBatchRequest, shuffle: number): DeviceResult[] {
  const out = req.targets.flatMap((t) =>
    t.deviceIds.map((deviceId) => {
      const msgId = req.messages[t.messageIndex]?.msgId ?? '';
      const delivered = verdict(msgId, t.userId, deviceId);
      return { userId: t.userId, deviceId, msgId, delivered, reason: delivered ? '' : 'DEVICE_NOT_CONNECTED' };
    }),
  );
  if (shuffle === 0) return out;
  // A deterministic reordering: rotate, then reverse.
  const k = shuffle % Math.max(1, out.length);
  return [...out.slice(k), ...out.slice(0, k)].reverse();
}

const requestArb: fc.Arbitrary<PushBatchRequest> = fc
  .tuple(
    fc.uniqueArray(fc.constantFrom('m1', 'm2', 'm3', 'm4'), { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 2 }), fc.nat()), {
      maxLength: 6,
    }),
  )
  .map(([msgIds, targets]) => {
    // One target per (user, message) in a request, as fanout builds them.
    const seen = new Set<string>();
    const out: PushBatchRequest = { messages: msgIds.map((m) => envelope(m)), targets: [] };
    for (const [userId, deviceIds, i] of targets) {
      const messageIndex = i % msgIds.length;
      const key = `${userId}/${messageIndex}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.targets.push({ userId, deviceIds, messageIndex });
    }
    return out;
  });

describe('coalescing PushBatch requests', () => {
  it('a merged call gives each request what it would have got alone, in its order', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 5 }), fc.nat(50), (requests, shuffle) => {
        // Requests of one lane never share a (user, message): different rounds hold different members.
        const disjoint = requests.map((r, j) => ({
          ...r,
          targets: r.targets.map((t) => ({ ...t, userId: `${t.userId}-r${j}` })),
        }));
        const merged = mergeRequests(disjoint);
        expect(new Set(merged.messages.map((m) => m.msgId)).size).toBe(merged.messages.length);
        expect(deviceCount(merged)).toBe(disjoint.reduce((n, r) => n + deviceCount(r), 0));
        const split = splitResults(disjoint, answer(merged, shuffle));
        expect(split).toEqual(disjoint.map((r) => answer(r, 0)));
      }),
    );
  });

  it('devices the answer leaves out are not delivered (NO_RESULT)', () => {
    const req: PushBatchRequest = { messages: [envelope('m1')], targets: [{ userId: 'u1', deviceIds: ['a', 'b'], messageIndex: 0 }] };
    const [only] = splitResults([req], [{ userId: 'u1', deviceId: 'b', msgId: 'm1', delivered: true, reason: '' }]);
    expect(only).toEqual([
      { userId: 'u1', deviceId: 'a', msgId: 'm1', delivered: false, reason: 'NO_RESULT' },
      { userId: 'u1', deviceId: 'b', msgId: 'm1', delivered: true, reason: '' },
    ]);
  });
});

/** A pusher whose calls stay open until released; records what each call carried. */
class HeldPusher implements Pick<GatewayPusher, 'pushBatch'> {
  readonly calls: { request: PushBatchRequest; deadline: number | undefined; release: () => void }[] = [];

  pushBatch(_address: string, request: PushBatchRequest, opts?: PushOptions): Promise<DeviceResult[]> {
    return new Promise((resolve) => {
      this.calls.push({ request, deadline: opts?.deadline, release: () => resolve(answer(request, 7)) });
    });
  }
}

const batch = (msgId: string, users: string[]): PushBatchRequest => ({
  messages: [envelope(msgId)],
  targets: users.map((userId) => ({ userId, deviceIds: ['phone'], messageIndex: 0 })),
});

const flush = () => new Promise((r) => setImmediate(r));

describe('GatewayLanes', () => {
  it('sends at once when idle and merges what queued while busy, up to maxTargets devices', async () => {
    const pusher = new HeldPusher();
    let now = 1000;
    const lanes = new GatewayLanes(pusher, { concurrency: 1, queueLimit: 10, timeoutMs: 500, maxTargets: 4 }, () => now);
    const b1 = batch('m1', ['u1', 'u2']);
    const b2 = batch('m1', ['u3', 'u4']);
    const b3 = batch('m2', ['u5']);
    const b4 = batch('m2', ['u6', 'u7']);
    const p1 = lanes.submit('gw', b1);
    now += 10;
    const rest = [b2, b3, b4].map((b) => lanes.submit('gw', b));
    expect(pusher.calls.map((c) => deviceCount(c.request))).toEqual([2]);

    pusher.calls[0]?.release();
    await flush();
    // b2 (2 devices) and b3 (1) fit under 4; b4 would make 5 and waits for the next call.
    expect(pusher.calls.map((c) => deviceCount(c.request))).toEqual([2, 3]);
    const second = pusher.calls[1];
    expect(second?.request.messages.map((m) => m.msgId)).toEqual(['m1', 'm2']);
    // The merged call's deadline is the earliest of its batches'.
    expect(second?.deadline).toBe(1010 + 500);

    second?.release();
    await flush();
    pusher.calls[2]?.release();
    const outcomes = await Promise.all([p1, ...rest]);
    expect(outcomes.map((o) => o.results)).toEqual([b1, b2, b3, b4].map((b) => answer(b, 0)));
    expect(outcomes.every((o) => !o.shed)).toBe(true);
    expect(lanes.stats()).toMatchObject({ submitted: 4, calls: 3, merged: 1, shed: 0 });
  });

  it('sheds a batch still queued at its deadline and one that finds the queue full', async () => {
    const pusher = new HeldPusher();
    let now = 0;
    const lanes = new GatewayLanes(pusher, { concurrency: 1, queueLimit: 1, timeoutMs: 100, maxTargets: 100 }, () => now);
    const first = lanes.submit('gw', batch('m1', ['u1']));
    const late = lanes.submit('gw', batch('m1', ['u2']));
    const full = await lanes.submit('gw', batch('m1', ['u3']));
    expect(full.shed).toBe(true);
    expect(full.results).toEqual([{ userId: 'u3', deviceId: 'phone', msgId: 'm1', delivered: false, reason: SHED_REASON }]);
    now = 200;
    pusher.calls[0]?.release();
    expect((await first).shed).toBe(false);
    const shed = await late;
    expect(shed.shed).toBe(true);
    expect(pusher.calls).toHaveLength(1);
  });
});
