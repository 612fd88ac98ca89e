import fc from 'fast-check';
import { DeviceCache, type DeviceEvent, type ReadTicket } from '../../../shared/registry/device-cache';
import type { DeviceEntry } from '../../../shared/registry/record';

/**
 * A model of etcd and of the watch feeding the cache: writes append events at rising
 * revisions; the watch delivers them in order, late; snapshot reads start at one
 * moment and complete at another (events may be delivered in between); the watch may
 * break (and resume where it stopped) or be reset (and restart at the current revision).
 */
type Cmd =
  | { kind: 'put'; user: number; device: number }
  | { kind: 'delete'; user: number; device: number }
  | { kind: 'deliver'; n: number }
  | { kind: 'beginRead'; user: number }
  | { kind: 'completeRead'; pick: number }
  | { kind: 'failRead'; pick: number }
  | { kind: 'lookup'; user: number }
  | { kind: 'break' }
  | { kind: 'resume' }
  | { kind: 'reset' };

const USERS = 2;
const DEVICES = 2;
const user = fc.nat(USERS - 1);
const device = fc.nat(DEVICES - 1);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('put' as const), user, device }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), user, device }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('beginRead' as const), user }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('completeRead' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('failRead' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('lookup' as const), user }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'break' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resume' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

const uid = (u: number) => `u${u}`;
const did = (d: number) => `d${d}`;

class Model {
  revision = 0;
  /** Every write, in revision order. */
  readonly events: DeviceEvent[] = [];
  /** Index of the next event the watch delivers. */
  delivered = 0;
  watching = true;
  /** Reset happened: the next watch starts fresh at the then current revision. */
  fresh = false;
  floor = 0;
  /** The revision of the last event delivered (or where a fresh watch started). */
  watchRevision = 0;

  write(u: number, d: number, present: boolean): void {
    this.revision += 1;
    const entry: DeviceEntry | undefined = present
      ? { userId: uid(u), deviceId: did(d), gatewayAddress: `gw${this.revision}:9093|x`, registeredAt: this.revision }
      : undefined;
    this.events.push({ userId: uid(u), deviceId: did(d), revision: this.revision, entry });
  }

  /** A user's devices as of `revision`, sorted by device id. */
  truthAt(u: number, revision: number): DeviceEntry[] {
    const devices = new Map<string, DeviceEntry>();
    for (const e of this.events) {
      if (e.revision > revision) break;
      if (e.userId !== uid(u)) continue;
      if (e.entry) devices.set(e.deviceId, e.entry);
      else devices.delete(e.deviceId);
    }
    return sorted([...devices.values()]);
  }

  exists(u: number, d: number): boolean {
    return this.truthAt(u, this.revision).some((e) => e.deviceId === did(d));
  }
}

const sorted = (devices: DeviceEntry[]) => [...devices].sort((a, b) => a.deviceId.localeCompare(b.deviceId));

interface Read {
  readonly ticket: ReadTicket;
  readonly user: number;
  readonly revision: number;
  readonly devices: DeviceEntry[];
}

function run(capacity: number, cmds: readonly Cmd[]): void {
  const model = new Model();
  const cache = new DeviceCache(capacity);
  cache.markLive(0);
  let reads: Read[] = [];
  const deliver = (n: number) => {
    for (let i = 0; i < n && model.watching && model.delivered < model.events.length; i++) {
      const event = model.events[model.delivered++]!;
      cache.applyEvent(event);
      model.watchRevision = event.revision;
    }
  };
  const resume = () => {
    if (model.watching) return;
    model.watching = true;
    if (model.fresh) {
      // A new watch after a reset starts at the current revision; older events never arrive.
      model.fresh = false;
      model.delivered = model.events.length;
      model.watchRevision = model.revision;
      model.floor = model.revision;
    }
    cache.markLive(model.floor); // a resumed watch keeps its floor
  };
  for (const c of cmds) {
    switch (c.kind) {
      case 'put':
        model.write(c.user, c.device, true);
        break;
      case 'delete':
        if (model.exists(c.user, c.device)) model.write(c.user, c.device, false);
        break;
      case 'deliver':
        deliver(c.n);
        break;
      case 'beginRead': {
        const ticket = cache.beginRead(uid(c.user));
        reads.push({ ticket, user: c.user, revision: model.revision, devices: model.truthAt(c.user, model.revision) });
        break;
      }
      case 'completeRead':
      case 'failRead': {
        if (reads.length === 0) break;
        const read = reads[c.pick % reads.length]!;
        reads = reads.filter((r) => r !== read);
        if (c.kind === 'completeRead') cache.completeRead(read.ticket, read.devices, read.revision);
        else cache.abandonRead(read.ticket);
        break;
      }
      case 'lookup': {
        const got = cache.get(uid(c.user));
        if (got === undefined) break;
        expect(model.watching).toBe(true);
        // Served answers are never older than the watch: exact for some revision >= it.
        const candidates = [];
        for (let r = model.watchRevision; r <= model.revision; r++) candidates.push(model.truthAt(c.user, r));
        expect(candidates).toContainEqual(sorted(got));
        break;
      }
      case 'break':
        model.watching = false;
        cache.markStale();
        break;
      case 'resume':
        resume();
        break;
      case 'reset':
        // The watch cannot resume (compaction): the cache forgets; a fresh watch comes on 'resume'.
        cache.reset();
        model.watching = false;
        model.fresh = true;
        break;
    }
  }
  // Once the watch has caught up, every cached user is exactly what etcd holds.
  resume();
  deliver(Number.POSITIVE_INFINITY);
  for (let u = 0; u < USERS; u++) {
    const got = cache.get(uid(u));
    if (got !== undefined) expect(sorted(got)).toEqual(model.truthAt(u, model.revision));
  }
}

describe('DeviceCache (model-based)', () => {
  it('never serves an answer older than its watch, and converges to etcd', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(cmd, { minLength: 5, maxLength: 60, size: 'max' }), (capacity, cmds) => run(capacity, cmds)),
      { numRuns: 1000 },
    );
  });

  it('caches "no devices" and lets a later put through', () => {
    const cache = new DeviceCache(10);
    cache.markLive(5);
    cache.completeRead(cache.beginRead('u'), [], 7);
    expect(cache.get('u')).toEqual([]);
    const entry = { userId: 'u', deviceId: 'd', gatewayAddress: 'g:1', registeredAt: 1 };
    cache.applyEvent({ userId: 'u', deviceId: 'd', revision: 8, entry });
    expect(cache.get('u')).toEqual([entry]);
  });

  it('does not cache a read that raced an event it could not see', () => {
    const cache = new DeviceCache(10);
    cache.markLive(0);
    const ticket = cache.beginRead('u');
    cache.applyEvent({ userId: 'u', deviceId: 'd', revision: 9, entry: undefined });
    expect(cache.completeRead(ticket, [{ userId: 'u', deviceId: 'd', gatewayAddress: 'g:1', registeredAt: 1 }], 8)).toBe(
      false,
    );
    expect(cache.get('u')).toBeUndefined();
  });

  it('serves nothing while stale and drops everything on reset', () => {
    const cache = new DeviceCache(10);
    cache.markLive(0);
    cache.completeRead(cache.beginRead('u'), [], 3);
    cache.markStale();
    expect(cache.get('u')).toBeUndefined();
    cache.markLive(0);
    expect(cache.get('u')).toEqual([]);
    const ticket = cache.beginRead('v');
    cache.reset();
    cache.markLive(10);
    expect(cache.get('u')).toBeUndefined();
    expect(cache.completeRead(ticket, [], 12)).toBe(false); // began before the reset
    expect(cache.completeRead(cache.beginRead('v'), [], 9)).toBe(false); // older than the new watch
    expect(cache.completeRead(cache.beginRead('v'), [], 10)).toBe(true);
  });
});
