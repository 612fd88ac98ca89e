/**
 * Model-based property test against the real servers: random interleavings of issue
 * (sequential and concurrent, from two generators on separate Redis connections),
 * Redis loss (FLUSHDB of the test's own db 11, or deleting one conversation's state,
 * also in the middle of concurrent traffic) and generator restarts, with a tiny block
 * size so blocks roll and recoveries happen constantly. After every step: no number
 * issued twice, a call that finished before another started got a smaller number, and
 * the Redis ceiling never exceeds the durable MySQL reservation.
 */
import fc from 'fast-check';
import type { SequenceGenerator } from '../../../shared/sequence';
import type { Pool } from '../../../shared/storage/mysql';
import type { Redis } from '../../../shared/storage/redis';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import { uid } from '../../support/env';
import {
  checkIssued,
  dropRows,
  generator,
  issue,
  redisState,
  reservedUntil,
  sequencePool,
  sequenceRedis,
  type IssuedCall,
} from './helpers';

interface Real {
  readonly redis: Redis[];
  readonly mysql: Pool;
  readonly gens: SequenceGenerator[];
  readonly convs: readonly string[];
  readonly blockSize: number;
  /** Requests per script call: 1 (as with Redis Cluster), a few, or whole ticks. */
  readonly maxBatch: number;
  readonly calls: IssuedCall[];
}
type Model = { steps: number };
type Cmd = fc.AsyncCommand<Model, Real>;

async function checkInvariants(r: Real): Promise<void> {
  checkIssued(r.calls);
  for (const c of r.convs) {
    const issued = r.calls.filter((x) => x.conversationId === c).map((x) => x.n);
    const durable = (await reservedUntil(r.mysql, c)) ?? 0;
    const state = await redisState(r.redis[0] as Redis, c);
    if (issued.length > 0) expect(Math.max(...issued)).toBeLessThanOrEqual(durable);
    if (state.ceil !== undefined) expect(state.ceil).toBeLessThanOrEqual(durable);
    if (state.cur !== undefined && issued.length > 0) expect(state.cur).toBeGreaterThanOrEqual(Math.max(...issued));
  }
}

class Issue implements Cmd {
  constructor(
    readonly gen: number,
    readonly conv: number,
    readonly callers: number,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const g = r.gens[this.gen] as SequenceGenerator;
    const c = r.convs[this.conv] as string;
    await Promise.all(Array.from({ length: this.callers }, () => issue(g, c, r.calls)));
    m.steps++;
    await checkInvariants(r);
  }
  toString = (): string => `issue(gen${this.gen}, conv${this.conv}, x${this.callers})`;
}

class Burst implements Cmd {
  /** Concurrent calls over all generators and conversations; Redis is lost mid-way at each of flushesAtMs. */
  constructor(
    readonly plan: ReadonlyArray<readonly [number, number]>,
    readonly flushesAtMs: readonly number[],
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const work = this.plan.map(([g, c]) =>
      issue(r.gens[g % r.gens.length] as SequenceGenerator, r.convs[c % r.convs.length] as string, r.calls),
    );
    let at = 0;
    for (const ms of [...this.flushesAtMs].sort((a, b) => a - b)) {
      await new Promise((res) => setTimeout(res, ms - at));
      at = ms;
      await (r.redis[1] as Redis).flushdb();
    }
    await Promise.all(work);
    m.steps++;
    await checkInvariants(r);
  }
  toString = (): string => `burst(${this.plan.length}${this.flushesAtMs.map((ms) => `, flush@${ms}ms`).join('')})`;
}

class LoseRedis implements Cmd {
  constructor(readonly whole: boolean) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (this.whole) await (r.redis[0] as Redis).flushdb();
    else await (r.redis[0] as Redis).del(RedisKeys.sequence(r.convs[0] as string));
    m.steps++;
  }
  toString = (): string => (this.whole ? 'flushdb' : 'del(conv0)');
}

class Restart implements Cmd {
  constructor(readonly gen: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    r.gens[this.gen] = generator(r.redis[this.gen] as Redis, r.mysql, r.blockSize, { maxBatch: r.maxBatch });
    m.steps++;
  }
  toString = (): string => `restart(gen${this.gen})`;
}

const GENS = 2;
const CONVS = 3;
const commands = [
  fc.tuple(fc.nat(GENS - 1), fc.nat(CONVS - 1), fc.integer({ min: 1, max: 8 })).map(([g, c, k]) => new Issue(g, c, k)),
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(GENS - 1), fc.nat(CONVS - 1)), { minLength: 2, maxLength: 32 }),
      fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
    )
    .map(([plan, flushes]) => new Burst(plan, flushes)),
  fc.boolean().map((whole) => new LoseRedis(whole)),
  fc.nat(GENS - 1).map((g) => new Restart(g)),
];

describe('SequenceGenerator model-based (real Redis db 11 + MySQL)', () => {
  let redis: Redis[];
  let mysql: Pool;
  const used: string[] = [];

  beforeAll(() => {
    redis = [sequenceRedis({ autoPipelining: true }), sequenceRedis()];
    mysql = sequencePool();
  });
  afterAll(async () => {
    await dropRows(mysql, used);
    for (const r of redis) r.disconnect();
    await mysql.end();
  });

  it('never repeats and keeps real-time order under issue / flush / restart / concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2, 5), fc.constantFrom(1, 3, 256), fc.commands(commands, { maxCommands: 12 }), async (blockSize, maxBatch, cmds) => {
        const convs = Array.from({ length: CONVS }, () => `g:${uid('model')}`);
        used.push(...convs);
        const real: Real = {
          redis,
          mysql,
          gens: redis.map((r) => generator(r, mysql, blockSize, { maxBatch })),
          convs,
          blockSize,
          maxBatch,
          calls: [],
        };
        await fc.asyncModelRun(() => ({ model: { steps: 0 }, real }), cmds);
        await checkInvariants(real);
      }),
      { numRuns: Number(process.env['SEQUENCE_MODEL_RUNS'] ?? 40) },
    );
  });
});
