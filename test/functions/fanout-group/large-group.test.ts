/**
 * A 20,000-member group (FANOUT_LARGE_MEMBERS) with 30% of members online across 8 real
 * gateway servers (some on two devices behind two gateways): one RouteGroupMessage
 * reaches every online device exactly once (the sender's sending device excepted), each
 * gateway receives a few dozen PushBatch calls (one per round of FANOUT_BATCH_SIZE
 * members), not thousands of single pushes, the log holds the message once, offline
 * members get one OFFLINE_PUSH task each, and the heap stays bounded while it runs.
 */
import type { TestGateway } from '../../support/gateway-server';
import { eventually } from '../../support/env';
import { fanoutGroup } from '../../../functions/fanout-group/function';
import { routeGroup } from '../../../functions/route-group/function';
import { msgId, startGroupRig, type DeviceSpec, type GroupRig } from './rig';

const MEMBERS = Number(process.env['FANOUT_LARGE_MEMBERS'] ?? 20_000);
const GATEWAYS = 8;
const PAGE = 500;
const gc = (globalThis as { gc?: () => void }).gc;

describe(`fanout of a ${MEMBERS}-member group`, () => {
  let rig: GroupRig;
  let gws: TestGateway[];
  let groupId: string;
  let members: string[];
  const devices: DeviceSpec[] = [];

  beforeAll(async () => {
    // "Exactly once" holds per delivery attempt: a PushBatch that outlives its per-attempt
    // RETRY_TIMEOUT on a loaded machine is sent again (and may land twice, as designed),
    // so the attempt timeout here is long enough that one attempt is all there is.
    rig = await startGroupRig(
      { FANOUT_BATCH_SIZE: String(PAGE), LARGE_GROUP_THRESHOLD: '1000', RETRY_TIMEOUT: '20s', FANOUT_PUSH_TIMEOUT: '30s' },
      [routeGroup, fanoutGroup],
    );
    gws = await rig.gateways(GATEWAYS);
    groupId = rig.id('big');
    members = Array.from({ length: MEMBERS }, (_, i) => rig.id(`u${String(i).padStart(6, '0')}`));
    await rig.seedGroup(groupId, members);
    members.forEach((userId, i) => {
      if (i % 10 >= 3) return; // 30% online
      devices.push({ userId, deviceId: 'phone', gateway: gws[i % GATEWAYS] as TestGateway });
      // Every 7th online member also has a laptop behind the next gateway.
      if (i % 7 === 0) devices.push({ userId, deviceId: 'laptop', gateway: gws[(i + 1) % GATEWAYS] as TestGateway });
    });
    await rig.register(devices);
  }, 120_000);

  afterAll(() => rig?.stop());

  it('reaches every online device exactly once, in per-gateway batches, with bounded memory', async () => {
    const sender = members[0] as string;
    const expected = new Set(
      devices.filter((d) => !(d.userId === sender && d.deviceId === 'phone')).map((d) => `${d.userId}/${d.deviceId}`),
    );
    const callsBefore = gws.map((g) => g.calls);
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);

    const id = msgId();
    const t0 = Date.now();
    const res = await rig.send({ msgId: id, senderId: sender, groupId, metadata: { sender_device_id: 'phone' } });
    expect(res).toMatchObject({ success: true, status: 'published', memberCount: MEMBERS });
    const delivered = () => gws.reduce((n, g) => n + g.pushesOf(id).length, 0);
    await eventually(() => delivered() >= expected.size, 60_000, 20);
    const elapsed = Date.now() - t0;
    // Let anything extra arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    clearInterval(sampler);
    gc?.();
    const heapAfter = process.memoryUsage().heapUsed;

    const got = gws.flatMap((g) => g.pushesOf(id).map((p) => `${p.userId}/${p.deviceId}`));
    expect(got.length).toBe(expected.size);
    expect(new Set(got).size).toBe(got.length);
    expect(new Set(got)).toEqual(expected);
    // Each device is pushed by the gateway it is registered on, by PushBatch.
    for (const d of devices) {
      const pushes = d.gateway.pushesOf(id).filter((p) => p.userId === d.userId && p.deviceId === d.deviceId);
      expect(pushes.length).toBe(d.userId === sender && d.deviceId === 'phone' ? 0 : 1);
    }
    expect(gws.every((g) => g.pushesOf(id).every((p) => p.method === 'PushBatch'))).toBe(true);

    const calls = gws.map((g, i) => g.calls - (callsBefore[i] as number));
    const rounds = Math.ceil(MEMBERS / PAGE);
    for (const c of calls) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThanOrEqual(rounds);
    }

    expect((await rig.logRows(groupId)).map((r) => r.msgId)).toEqual([id]);
    const offline = MEMBERS - new Set(devices.map((d) => d.userId)).size;
    const tasks = await eventually(async () => {
      const t = (await rig.pushTasks()).filter((x) => x.msgIds.includes(id));
      return t.length >= offline ? t : undefined;
    }, 30_000, 100);
    expect(tasks.length).toBe(offline);
    expect(new Set(tasks.map((t) => t.userId)).size).toBe(offline);

    const mb = (n: number) => Math.round(n / 1048576);
    process.stdout.write(
      `fanout ${MEMBERS} members: ${expected.size} devices in ${elapsed} ms; calls per gateway ${calls.join(',')}; ` +
        `heap before ${mb(heapBefore)} MB, peak +${mb(heapPeak - heapBefore)} MB, after +${mb(heapAfter - heapBefore)} MB` +
        `${gc ? '' : ' (no --expose-gc)'}\n`,
    );
    // Generous: the whole member list is ~2 MB of strings; what must not happen is growth
    // with the group (per-member copies, a full member list of envelopes).
    expect(heapPeak - heapBefore).toBeLessThan(192 * 1048576);
    if (gc) expect(heapAfter - heapBefore).toBeLessThan(64 * 1048576);
  }, 120_000);
});
