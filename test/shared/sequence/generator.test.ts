import { SequenceGenerator, privateConversationId, ReservationStore } from '../../../shared/sequence';
import { defineSequenceCommands } from '../../../shared/sequence/scripts';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import type { Pool } from '../../../shared/storage/mysql';
import type { Redis } from '../../../shared/storage/redis';
import { uid } from '../../support/env';
import {
  checkIssued,
  dropRows,
  freshMetrics,
  generator,
  issue,
  redisState,
  reservedUntil,
  sequencePool,
  sequenceRedis,
  type IssuedCall,
} from './helpers';

describe('SequenceGenerator (real Redis db 11 + MySQL)', () => {
  let redis: Redis;
  let mysql: Pool;
  const used: string[] = [];
  const conv = (): string => {
    const id = `g:${uid('seq')}`;
    used.push(id);
    return id;
  };

  beforeAll(() => {
    redis = sequenceRedis();
    mysql = sequencePool();
  });
  afterAll(async () => {
    await dropRows(mysql, used);
    await redis.del(...used.map((c) => RedisKeys.sequence(c)));
    redis.disconnect();
    await mysql.end();
  });

  it('starts a new conversation at 1 and counts up, one block reserved ahead in MySQL', async () => {
    const c = conv();
    const gen = generator(redis, mysql, 5);
    const got = [];
    for (let i = 0; i < 12; i++) got.push(await gen.next(c));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(await reservedUntil(mysql, c)).toBe(15);
    expect(await redisState(redis, c)).toEqual({ cur: 12, ceil: 15 });
  });

  it('a→b and b→a share one counter', async () => {
    const [a, b] = [uid('a'), uid('b')];
    const ab = privateConversationId(a, b);
    used.push(ab);
    const gen = generator(redis, mysql, 3);
    const calls: IssuedCall[] = [];
    const got: number[] = [];
    for (let i = 0; i < 10; i++) {
      got.push(await issue(gen, privateConversationId(a, b), calls));
      got.push(await issue(gen, privateConversationId(b, a), calls));
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // ...also when both directions send at once
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => issue(gen, i % 2 ? privateConversationId(a, b) : privateConversationId(b, a), calls)),
    );
    checkIssued(calls);
    expect(new Set(calls.map((c) => c.conversationId))).toEqual(new Set([ab]));
    expect(Math.max(...calls.map((c) => c.n))).toBe(60);
  });

  it('after Redis loses a conversation, resumes above the last reserved block (gap, no repeat)', async () => {
    const c = conv();
    const gen = generator(redis, mysql, 10);
    for (let i = 0; i < 3; i++) await gen.next(c); // 1..3 of block 1..10
    await redis.del(RedisKeys.sequence(c));
    expect(await gen.next(c)).toBe(11);
    expect(await reservedUntil(mysql, c)).toBe(20);
  });

  it('concurrent callers of one process share one reservation per block (single flight)', async () => {
    const c = conv();
    const metrics = freshMetrics();
    const gen = new SequenceGenerator({ redis, mysql, metrics, blockSize: 100 });
    const got = await Promise.all(Array.from({ length: 250 }, () => gen.next(c)));
    expect(new Set(got).size).toBe(250);
    expect(Math.max(...got)).toBe(250);
    const blocks = await metrics.sequenceBlocksReserved.get();
    const total = blocks.values.reduce((s, v) => s + v.value, 0);
    expect(total).toBe(3); // 100 + 100 + 100: one recovery (new conversation) + two refills
    expect((await metrics.sequenceGenerated.get()).values[0]?.value).toBe(250);
  });

  it('a raise from a reservation taken before a loss never recreates the counter', async () => {
    const c = conv();
    const key = RedisKeys.sequence(c);
    const gen = generator(redis, mysql, 5);
    for (let i = 0; i < 5; i++) await gen.next(c); // 1..5, ceiling 5
    const stale = await new ReservationStore(mysql).reserve(c, 5); // a slow process reserves 6..10 ...
    await redis.del(key); // ... Redis loses the state ...
    const fast = generator(redis, mysql, 5);
    const after: number[] = [];
    for (let i = 0; i < 7; i++) after.push(await fast.next(c)); // another process recovers: 11..17
    await redis.del(key); // ... and loses it again
    const cmd = defineSequenceCommands(redis);
    expect(await cmd.imSeqRaise(key, String(stale), '0')).toBe(-1); // the slow raise finally lands: refused
    const next = await gen.next(c);
    expect(after).toEqual([11, 12, 13, 14, 15, 16, 17]);
    expect(next).toBeGreaterThan(17);
  });

  it('a process paused between reserving and raising, across two losses, still never repeats', async () => {
    const c = conv();
    const key = RedisKeys.sequence(c);
    // Process A's MySQL pool holds back the answer of its next reservation until released.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reserving!: () => void;
    const reserved = new Promise<void>((r) => (reserving = r));
    let hold = false;
    const slowPool = new Proxy(mysql, {
      get(target, prop, receiver) {
        if (prop !== 'execute') return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<Pool['execute']>) => {
          const result = await (target.execute as (...a: unknown[]) => Promise<unknown>)(...args);
          if (hold) {
            reserving();
            await gate;
          }
          return result;
        };
      },
    });
    const a = generator(redis, slowPool, 5);
    const b = generator(redis, mysql, 5);
    const calls: IssuedCall[] = [];
    for (let i = 0; i < 5; i++) await issue(a, c, calls); // 1..5: block used up
    hold = true;
    const pending = issue(a, c, calls); // A reserves 6..10, then stalls before raising
    await reserved;
    hold = false;
    await redis.del(key); // loss 1
    for (let i = 0; i < 4; i++) await issue(b, c, calls); // B recovers above 10: 11..14
    await redis.del(key); // loss 2: nothing in Redis remembers 14
    release(); // A's raise lands now: it must recover under the lock, not restart from its block
    await pending;
    for (let i = 0; i < 3; i++) await issue(a, c, calls);
    checkIssued(calls);
    expect(calls.slice(5, 9).map((x) => x.n)).toEqual([11, 12, 13, 14]);
    expect(calls[9]?.n).toBeGreaterThan(14);
  });

  it('lifts a MySQL row that fell behind Redis instead of issuing below it', async () => {
    const c = conv();
    const gen = generator(redis, mysql, 5);
    for (let i = 0; i < 5; i++) await gen.next(c);
    await dropRows(mysql, [c]); // e.g. deleted by hand: Redis still says cur = ceil = 5
    expect(await gen.next(c)).toBe(6);
    expect(await reservedUntil(mysql, c)).toBeGreaterThanOrEqual(10);
  });

  it('keeps idle conversations in Redis only for the idle TTL', async () => {
    const c = conv();
    const gen = generator(redis, mysql, 5, { idleTtlMs: 60_000 });
    await gen.next(c);
    const ttl = await redis.pttl(RedisKeys.sequence(c));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('fails with SEQUENCE_ERROR when MySQL is unreachable and a block is needed', async () => {
    const { createMysqlPool } = await import('../../../shared/storage/mysql');
    const { testConfig } = await import('../../support/env');
    const dead = createMysqlPool({ ...testConfig().db, port: 1, connTimeoutMs: 500 });
    const gen = generator(redis, dead, 5);
    await expect(gen.next(conv())).rejects.toMatchObject({ code: 'SEQUENCE_ERROR', retryable: true });
    await dead.end();
  });

  it('refuses a client with commandTimeout (a late init could run after the row lock is gone)', () => {
    const r = sequenceRedis();
    r.options.commandTimeout = 100;
    expect(() => generator(r, mysql, 5)).toThrow(/commandTimeout/);
    r.disconnect();
  });
});
