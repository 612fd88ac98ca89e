/**
 * The fanout crash test: a FANOUT_CRASH_MEMBERS-member group (4,000 by default), 30% of
 * members online behind 4 real gateway servers, and fanout-group run as a separate
 * process (its own container bundle, built by build.mjs into a temporary folder). The
 * gateways answer slowly (FANOUT_CRASH_GATEWAY_DELAY_MS) so the fanout of one message
 * takes several calls per gateway; the consumer is killed with SIGKILL once a quarter of
 * the devices have the message (FANOUT_CRASH_KILL_AT), i.e. mid-group. Then:
 *   - the group_msg offset is not committed (the batch comes again),
 *   - the devices the first life never reached are still missing,
 * and after a restart:
 *   - every online device (the sender's sending device excepted) has the message at
 *     least once and at most once per life (repeats come only from the redelivered batch
 *     and carry the same msg_id and sequence number, by which clients drop them);
 *   - the group log holds the message exactly once, with the sequence route-group gave;
 *   - every offline member has an OFFLINE_PUSH task for it, nothing is dead-lettered and
 *     the consumer group's lag is 0.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestGateway } from '../../support/gateway-server';
import { eventually } from '../../support/env';
import { routeGroup } from '../../../functions/route-group/function';
import { groupLag } from '../persist-offline/support';
import { msgId, startGroupRig, type DeviceSpec, type GroupRig } from './rig';
import { spawnBundle, type Life } from '../../support/child';

const MEMBERS = Number(process.env['FANOUT_CRASH_MEMBERS'] ?? 4000);
const GATEWAYS = Number(process.env['FANOUT_CRASH_GATEWAYS'] ?? 4);
const PAGE = Number(process.env['FANOUT_CRASH_BATCH_SIZE'] ?? 100);
const DELAY_MS = Number(process.env['FANOUT_CRASH_GATEWAY_DELAY_MS'] ?? 150);
/** The kill comes once this share of the devices has the message. */
const KILL_AT = Number(process.env['FANOUT_CRASH_KILL_AT'] ?? 0.25);
const root = join(__dirname, '../../..');

describe('fanout-group crash test (separate process, kill -9 mid-group)', () => {
  let rig: GroupRig;
  let gws: TestGateway[];
  let dir: string;
  let groupId: string;
  let members: string[];
  const devices: DeviceSpec[] = [];
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-crash-'));
    // The container bundle, built away from the shared dist/ that others rebuild meanwhile.
    const built = spawnSync(process.execPath, [join(root, 'build.mjs'), 'fanout-group'], {
      cwd: root,
      env: { ...process.env, IM_DIST_DIR: dir },
      encoding: 'utf8',
    });
    if (built.status !== 0) throw new Error(`build.mjs fanout-group failed: ${built.stderr}`);
    rig = await startGroupRig({}, [routeGroup]);
    gws = await rig.gateways(GATEWAYS);
    groupId = rig.id('crash');
    members = Array.from({ length: MEMBERS }, (_, i) => rig.id(`u${String(i).padStart(6, '0')}`));
    await rig.seedGroup(groupId, members);
    members.forEach((userId, i) => {
      if (i % 10 >= 3) return; // 30% online
      devices.push({ userId, deviceId: 'phone', gateway: gws[i % GATEWAYS] as TestGateway });
      // Every 5th online member also has a laptop behind the next gateway.
      if (i % 5 === 0) devices.push({ userId, deviceId: 'laptop', gateway: gws[(i + 1) % GATEWAYS] as TestGateway });
    });
  }, 120_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await rig?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function startConsumer(): Life {
    const life = spawnBundle(join(dir, 'fanout-group/index.js'), {
      ...process.env,
      ...rig.env,
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      KAFKA_CLIENT_ID: `fanout-crash-${rig.run}`,
      FANOUT_BATCH_SIZE: String(PAGE),
      FANOUT_GATEWAY_CONCURRENCY: '1',
      // Slow gateways must not make the first life give up on them.
      FANOUT_PUSH_TIMEOUT: '30s',
      RETRY_TIMEOUT: '10s',
      SHUTDOWN_TIMEOUT: '10s',
    });
    child = life.proc;
    return life;
  }

  /** The consumer group has exactly one member and is stable (it has partitions to read). */
  async function joined(): Promise<boolean> {
    const { groups } = await rig.admin.describeGroups([rig.consumerGroup]);
    const g = groups[0];
    return g?.state === 'Stable' && g.members.length === 1;
  }

  it(`delivers to every online member of a ${MEMBERS}-member group and logs the message once, across a kill -9`, async () => {
    const sender = members[0] as string;
    const expected = new Set(
      devices.filter((d) => !(d.userId === sender && d.deviceId === 'phone')).map((d) => `${d.userId}/${d.deviceId}`),
    );
    const reached = (id: string) => new Set(gws.flatMap((g) => g.pushesOf(id).map((p) => `${p.userId}/${p.deviceId}`)));

    const first = startConsumer();
    await eventually(joined, 60_000, 200);
    await rig.register(devices);
    for (const g of gws) g.behaviour.delayMs = DELAY_MS;

    const id = msgId();
    const res = await rig.send({ msgId: id, senderId: sender, groupId, metadata: { sender_device_id: 'phone' } });
    expect(res).toMatchObject({ success: true, status: 'published', memberCount: MEMBERS });

    // Mid-group: some devices have it, most do not.
    await eventually(() => reached(id).size >= Math.max(1, Math.floor(expected.size * KILL_AT)), 30_000, 5);
    const atKill = reached(id).size;
    first.proc.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // Calls the dead process had in flight still land; after that the first life is over.
    await new Promise((r) => setTimeout(r, DELAY_MS + 200));
    const firstLife = reached(id);
    const byFirstLife = firstLife.size;
    expect(byFirstLife).toBeLessThan(expected.size);
    const [committed] = await rig.admin.fetchOffsets({ groupId: rig.consumerGroup, topics: [rig.topics.groupMsg] });
    expect((committed?.partitions ?? []).every((p) => Number(p.offset) <= 0)).toBe(true);
    for (const g of gws) g.behaviour.delayMs = 0;

    const restartedAt = Date.now();
    const second = startConsumer();
    await eventually(() => [...expected].every((k) => reached(id).has(k)), 60_000, 50);
    const redeliveredMs = Date.now() - restartedAt;

    const pushes = gws.flatMap((g) => g.pushesOf(id));
    const got = reached(id);
    expect([...got].filter((k) => !expected.has(k))).toEqual([]);
    expect(got.size).toBe(expected.size);
    expect(pushes.every((p) => p.message.msgId === id && p.message.sequenceNumber === res.sequenceNumber)).toBe(true);
    const times = new Map<string, number>();
    for (const p of pushes) times.set(`${p.userId}/${p.deviceId}`, (times.get(`${p.userId}/${p.deviceId}`) ?? 0) + 1);
    const repeated = [...times].filter(([, n]) => n > 1);
    expect(repeated.every(([k, n]) => n === 2 && firstLife.has(k))).toBe(true);

    expect(await rig.logRows(groupId)).toEqual([{ msgId: id, sequenceNumber: res.sequenceNumber }]);

    const offline = members.filter((u) => !devices.some((d) => d.userId === u) && u !== sender);
    await eventually(async () => {
      const tasked = new Set((await rig.pushTasks()).filter((t) => t.msgIds.includes(id)).map((t) => t.userId));
      return offline.every((u) => tasked.has(u));
    }, 30_000, 100);
    await eventually(async () => (await groupLag(rig.admin, rig.consumerGroup, rig.topics.groupMsg)) === 0, 30_000, 200);
    expect((await rig.admin.fetchTopicOffsets(rig.topics.dlq)).every((p) => p.high === '0')).toBe(true);

    second.proc.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    process.stdout.write(
      `fanout crash: ${MEMBERS} members, ${expected.size} devices; killed with ${atKill} reached ` +
        `(${byFirstLife} after its calls in flight landed); restart reached the rest in ${redeliveredMs} ms ` +
        `(Kafka session timeout included), ${pushes.length - got.size} repeated pushes\n`,
    );
  }, 180_000);
});
