/**
 * Test wiring for the sequence generator against the real servers: Redis clients on a
 * database index of their own (11), which these tests may FLUSHDB — the same loss as
 * FLUSHALL for the generator, and harmless to every other test (they use REDIS_DB,
 * default 2) — and MySQL rows in im_chat under random conversation ids, deleted after.
 */
import { Registry } from 'prom-client';
import { createMetrics, type Metrics } from '../../../shared/observability/metrics';
import { createMysqlPool, type Pool } from '../../../shared/storage/mysql';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { RedisKeys } from '../../../shared/storage/redis-keys';
import { SequenceGenerator, type SequenceGeneratorOptions } from '../../../shared/sequence';
import { testConfig } from '../../support/env';

/** The Redis database index the sequence tests own and may flush. */
export const SEQUENCE_TEST_REDIS_DB = 11;

export function sequenceRedis(options: { autoPipelining?: boolean } = {}): Redis {
  const cfg = testConfig().redis;
  const redis = createRedis({ ...cfg, db: SEQUENCE_TEST_REDIS_DB });
  if (options.autoPipelining) redis.options.enableAutoPipelining = true;
  return redis;
}

export const sequencePool = (): Pool => createMysqlPool(testConfig().db);

export const freshMetrics = (): Metrics => createMetrics(new Registry());

export function generator(
  redis: Redis,
  mysql: Pool,
  blockSize: number,
  extra: Partial<SequenceGeneratorOptions> = {},
): SequenceGenerator {
  return new SequenceGenerator({ redis, mysql, metrics: freshMetrics(), blockSize, ...extra });
}

export async function reservedUntil(mysql: Pool, conversationId: string): Promise<number | undefined> {
  const [rows] = await mysql.query('SELECT reserved_until FROM sequence_reservations WHERE conversation_id = ?', [
    conversationId,
  ]);
  const row = (rows as Array<{ reserved_until: number }>)[0];
  return row === undefined ? undefined : Number(row.reserved_until);
}

export async function redisState(redis: Redis, conversationId: string): Promise<{ cur?: number; ceil?: number }> {
  const [cur, ceil] = await redis.hmget(RedisKeys.sequence(conversationId), 'cur', 'ceil');
  return { ...(cur === null ? {} : { cur: Number(cur) }), ...(ceil === null ? {} : { ceil: Number(ceil) }) };
}

export async function dropRows(mysql: Pool, conversationIds: readonly string[]): Promise<void> {
  if (conversationIds.length === 0) return;
  await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id IN (?)', [conversationIds]);
}

/** Asserts that no two calls were issued the same number and that completion order is kept. */
export function checkIssued(calls: readonly IssuedCall[]): void {
  const seen = new Map<string, Set<number>>();
  for (const c of calls) {
    const set = seen.get(c.conversationId) ?? new Set<number>();
    if (set.has(c.n)) throw new Error(`${c.conversationId}: ${c.n} issued twice`);
    set.add(c.n);
    seen.set(c.conversationId, set);
  }
  // Real-time order: a call that finished before another started got a smaller number.
  const byConv = new Map<string, IssuedCall[]>();
  for (const c of calls) {
    const list = byConv.get(c.conversationId);
    if (list) list.push(c);
    else byConv.set(c.conversationId, [c]);
  }
  for (const [conv, list] of byConv) {
    const byStart = [...list].sort((a, b) => a.start - b.start);
    const byEnd = [...list].sort((a, b) => a.end - b.end);
    let maxEnded = 0;
    let j = 0;
    for (const c of byStart) {
      while (j < byEnd.length && (byEnd[j] as IssuedCall).end < c.start) maxEnded = Math.max(maxEnded, (byEnd[j++] as IssuedCall).n);
      if (c.n <= maxEnded) throw new Error(`${conv}: ${c.n} issued after a call that had already received ${maxEnded}`);
    }
  }
}

export interface IssuedCall {
  readonly conversationId: string;
  readonly n: number;
  /** Monotonic sequence stamps (a shared counter), not wall time. */
  readonly start: number;
  readonly end: number;
}

let tick = 0;
/** Issues one number and records when the call started and finished, in one total order. */
export async function issue(gen: SequenceGenerator, conversationId: string, into: IssuedCall[]): Promise<number> {
  const start = ++tick;
  const n = await gen.next(conversationId);
  into.push({ conversationId, n, start, end: ++tick });
  return n;
}
