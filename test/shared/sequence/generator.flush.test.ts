/**
 * Integration: two generator instances (separate Redis connections, as two processes
 * would have) issue concurrently on a few conversations while Redis loses everything
 * twice. FLUSHDB on the tests' own database index 11 is what FLUSHALL would be for the
 * generator (its keys live nowhere else) and leaves other engineers' data alone.
 */
import type { Pool } from '../../../shared/storage/mysql';
import type { Redis } from '../../../shared/storage/redis';
import { uid } from '../../support/env';
import { checkIssued, dropRows, generator, issue, sequencePool, sequenceRedis, type IssuedCall } from './helpers';

const RUN_MS = Number(process.env['SEQUENCE_FLUSH_TEST_MS'] ?? 1500);

describe('SequenceGenerator under FLUSHDB with two instances (real Redis db 11 + MySQL)', () => {
  let redis: Redis[];
  let flusher: Redis;
  let mysql: Pool;
  const convs = Array.from({ length: 4 }, () => `g:${uid('flush')}`);

  beforeAll(() => {
    redis = [sequenceRedis({ autoPipelining: true }), sequenceRedis({ autoPipelining: true })];
    flusher = sequenceRedis();
    mysql = sequencePool();
  });
  afterAll(async () => {
    await dropRows(mysql, convs);
    for (const r of [...redis, flusher]) r.disconnect();
    await mysql.end();
  });

  it.each([[20], [10_000]])('numbers stay unique and in order across two losses (block %d)', async (blockSize) => {
    const gens = redis.map((r) => generator(r, mysql, blockSize));
    const calls: IssuedCall[] = [];
    const failures: unknown[] = [];
    const end = Date.now() + RUN_MS;
    let flushes = 0;
    const worker = async (w: number): Promise<void> => {
      const gen = gens[w % gens.length]!;
      for (let i = 0; Date.now() < end; i++) {
        await issue(gen, convs[(w + i) % convs.length]!, calls).catch((err: unknown) => failures.push(err));
      }
    };
    const chaos = async (): Promise<void> => {
      const start = Date.now();
      for (const at of [0.3, 0.65]) {
        await new Promise((r) => setTimeout(r, start + RUN_MS * at - Date.now()));
        await flusher.flushdb();
        flushes++;
      }
    };
    await Promise.all([...Array.from({ length: 16 }, (_, w) => worker(w)), chaos()]);
    expect(failures).toEqual([]);
    expect(flushes).toBe(2);
    checkIssued(calls);
    for (const c of convs) {
      const numbers = calls.filter((x) => x.conversationId === c).map((x) => x.n);
      expect(numbers.length).toBeGreaterThan(10);
      // Two losses, each answered by resuming above the durable reservation.
      if (blockSize === 10_000) expect(Math.max(...numbers)).toBeGreaterThan(2 * blockSize);
    }
  });
});
