/**
 * ClaimAndNumber against the real Redis and MySQL: a won claim brings the next number
 * in the same call once the conversation's state exists, a new conversation's claim
 * comes without one (the SequenceGenerator refills and numbers it), duplicates and
 * conflicts never use up a number, and numbers from both paths never repeat.
 */
import { Registry } from 'prom-client';
import { MessageClaims, messageFingerprint } from '../../../shared/dedup';
import { createMetrics } from '../../../shared/observability/metrics';
import { SequenceGenerator } from '../../../shared/sequence';
import { privateConversationId } from '../../../shared/sequence/conversation-id';
import { createMysqlPool, type Pool } from '../../../shared/storage/mysql';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { ClaimAndNumber } from '../../../functions/route-private/claim-and-number';
import type { RouteOutcome } from '../../../functions/route-private/ports';
import { testConfig, uid } from '../../support/env';

describe('ClaimAndNumber (real Redis and MySQL)', () => {
  const run = uid('can');
  const prefix = `test-${run}:`;
  let redis: Redis;
  let mysql: Pool;
  const metrics = createMetrics(new Registry());
  let numbering: ClaimAndNumber;
  let claims: MessageClaims<RouteOutcome>;
  let sequences: SequenceGenerator;
  const fp = (content: string) => messageFingerprint({ senderId: 'a', recipientId: 'b', content });

  beforeAll(() => {
    redis = createRedis(testConfig().redis, { keyPrefix: prefix });
    mysql = createMysqlPool({ ...testConfig().db, maxOpenConns: 2 });
    numbering = new ClaimAndNumber({ redis, scope: 'route-private', inProgressTtlMs: 30_000, sequenceIdleTtlMs: 0, metrics });
    claims = new MessageClaims({ redis, scope: 'route-private', ttlMs: 60_000, inProgressTtlMs: 30_000 });
    sequences = new SequenceGenerator({ redis, mysql, metrics, blockSize: 5 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
    await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id LIKE ?', [`%${run}%`]);
    await mysql.end();
  });

  it('a new conversation: claimed without a number; the generator numbers it; later claims carry the next ones', async () => {
    const conv = privateConversationId(`${run}-a`, `${run}-b`);
    const first = await numbering.claim(uid('m'), fp('1'), conv);
    expect(first).toMatchObject({ kind: 'claimed', sequenceNumber: undefined });
    const n1 = await sequences.next(conv);
    const numbers = [n1];
    // Past the block of 5: the claim that meets the ceiling comes without a number and the generator reserves more.
    for (let i = 0; i < 8; i++) {
      const r = await numbering.claim(uid('m'), fp(`x${i}`), conv);
      if (r.kind !== 'claimed') throw new Error(`not claimed: ${r.kind}`);
      numbers.push(r.sequenceNumber ?? (await sequences.next(conv)));
    }
    expect(numbers).toEqual(Array.from({ length: 9 }, (_, i) => n1 + i));
  });

  it('20 copies of one msg_id in one turn: one claim, one number; the conversation moved by one', async () => {
    const conv = privateConversationId(`${run}-c`, `${run}-d`);
    await numbering.claim(uid('m'), fp('warm'), conv);
    const before = await sequences.next(conv);
    const msgId = uid('m');
    const results = await Promise.all(Array.from({ length: 20 }, () => numbering.claim(msgId, fp('same'), conv)));
    expect(results[0]).toMatchObject({ kind: 'claimed', sequenceNumber: before + 1 });
    expect(results.slice(1).every((r) => r.kind === 'in_progress')).toBe(true);
    const next = await numbering.claim(uid('m'), fp('next'), conv);
    expect(next).toMatchObject({ kind: 'claimed', sequenceNumber: before + 2 });
  });

  it('a conflict or a completed msg_id uses no number; the stored outcome comes back', async () => {
    const conv = privateConversationId(`${run}-e`, `${run}-f`);
    await numbering.claim(uid('m'), fp('warm'), conv);
    const base = await sequences.next(conv);
    const msgId = uid('m');
    const won = await numbering.claim(msgId, fp('hello'), conv);
    expect(won).toMatchObject({ kind: 'claimed', sequenceNumber: base + 1 });
    expect(await numbering.claim(msgId, fp('edited'), conv)).toEqual({ kind: 'conflict' });
    await claims.complete(msgId, fp('hello'), { kind: 'routed', status: 'offline', sequenceNumber: base + 1 });
    expect(await numbering.claim(msgId, fp('hello'), conv)).toEqual({
      kind: 'completed',
      outcome: { kind: 'routed', status: 'offline', sequenceNumber: base + 1 },
    });
    expect(await sequences.next(conv)).toBe(base + 2);
  });

  it('mixed with the generator under concurrency: no number is issued twice', async () => {
    const conv = privateConversationId(`${run}-g`, `${run}-h`);
    const got = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        if (i % 3 === 0) return sequences.next(conv);
        const r = await numbering.claim(uid('m'), fp(`c${i}`), conv);
        if (r.kind !== 'claimed') throw new Error(r.kind);
        return r.sequenceNumber ?? sequences.next(conv);
      }),
    );
    expect(new Set(got).size).toBe(60);
  });
});
