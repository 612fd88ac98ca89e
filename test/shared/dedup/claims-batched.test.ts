/**
 * MessageClaims with batchPerTurn against the real Redis: the claims and completions of
 * one event-loop turn travel as one script call (lua-many), with the same answers as
 * one call each — in call order within a batch — and a failing entry fails only its
 * own caller.
 */
import { MessageClaims, messageFingerprint } from '../../../shared/dedup';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import { testConfig, uid } from '../../support/env';

interface Outcome {
  sequenceNumber: number;
  status: string;
}

describe('MessageClaims batched per event-loop turn (real Redis)', () => {
  const prefix = `test-${uid('claims-b')}:`;
  let redis: Redis;
  let calls = 0;
  const claims = (inProgressTtlMs = 30_000) =>
    new MessageClaims<Outcome>({ redis, scope: 'route-private', ttlMs: 7 * 24 * 3600_000, inProgressTtlMs, batchPerTurn: true });
  const fp = messageFingerprint({ senderId: 'alice', recipientId: 'bob', content: 'hi' });
  const otherFp = messageFingerprint({ senderId: 'alice', recipientId: 'bob', content: 'hi!' });

  beforeAll(() => {
    redis = createRedis(testConfig().redis, { keyPrefix: prefix });
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((...args: Parameters<typeof send>) => {
      calls += 1;
      return send(...args);
    }) as typeof redis.sendCommand;
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
  });

  it('20 concurrent claims of one msg_id: one script call, exactly one wins, the rest see it in progress', async () => {
    const c = claims();
    const msgId = uid('m');
    await redis.ping(); // the connection is up, so nothing else is in the count
    const before = calls;
    const results = await Promise.all(Array.from({ length: 20 }, () => c.claim(msgId, fp)));
    expect(calls - before).toBe(1);
    expect(results[0]?.kind).toBe('claimed'); // call order is kept within the batch
    expect(results.filter((r) => r.kind === 'in_progress')).toHaveLength(19);
  });

  it('claims of many msg_ids and a conflict in one turn each get their own answer', async () => {
    const c = claims();
    const ids = Array.from({ length: 10 }, () => uid('m'));
    const results = await Promise.all([...ids.map((id) => c.claim(id, fp)), c.claim(ids[0] as string, otherFp)]);
    expect(results.slice(0, 10).every((r) => r.kind === 'claimed')).toBe(true);
    expect(results[10]).toEqual({ kind: 'conflict' });
  });

  it('completions in one turn: the first outcome wins, a retry gets it back, the in-progress TTL becomes MESSAGE_TTL', async () => {
    const c = claims(150);
    const msgId = uid('m');
    expect((await c.claim(msgId, fp)).kind).toBe('claimed');
    const [a, b] = await Promise.all([
      c.complete(msgId, fp, { sequenceNumber: 7, status: 'delivered' }),
      c.complete(msgId, fp, { sequenceNumber: 8, status: 'offline' }),
    ]);
    expect(a).toEqual({ kind: 'stored', outcome: { sequenceNumber: 7, status: 'delivered' } });
    expect(b).toEqual({ kind: 'already_completed', outcome: { sequenceNumber: 7, status: 'delivered' } });
    expect(await c.claim(msgId, fp)).toEqual({ kind: 'completed', outcome: { sequenceNumber: 7, status: 'delivered' } });
    expect(await redis.pttl(RedisKeys.messageClaim('route-private', msgId))).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
  });

  it('an entry Redis refuses fails only its caller, with SERVICE_UNAVAILABLE', async () => {
    const c = claims();
    const broken = uid('m');
    // A string where the claim hash belongs: HMGET answers WRONGTYPE for that key alone.
    await redis.set(RedisKeys.messageClaim('route-private', broken), 'not a hash');
    const fine = uid('m');
    const [bad, good] = await Promise.allSettled([c.claim(broken, fp), c.claim(fine, fp)]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'SERVICE_UNAVAILABLE' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { kind: 'claimed' } });
  });

  it('release() still works on a batched claim', async () => {
    const c = claims();
    const msgId = uid('m');
    const first = await c.claim(msgId, fp);
    expect(await c.release(msgId, first.kind === 'claimed' ? first.token : '')).toBe(true);
    expect((await c.claim(msgId, fp)).kind).toBe('claimed');
  });
});
