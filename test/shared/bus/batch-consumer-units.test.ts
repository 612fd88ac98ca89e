/**
 * Pure parts of the batch consumer: retry schedule, batching, commit offsets, lag,
 * poison isolation and the dead-letter envelope.
 */
import fc from 'fast-check';
import { DEFAULT_JITTER, retryDelay, worstCaseRetryMs } from '../../../shared/bus/backoff';
import { chunk, fetchMinBytes, lagOf, offsetAfter } from '../../../shared/bus/batching';
import { isolate } from '../../../shared/bus/isolate';
import { deadLetterKey, headersAsText, toDeadLetter } from '../../../shared/bus/dead-letter';
import type { ConsumedRecord } from '../../../shared/bus/consumed-record';
import { ImError } from '../../../shared/errors';

const SCHEDULE = [1000, 2000, 4000, 8000, 16000];

describe('retryDelay', () => {
  it.each([
    [0, 1000],
    [1, 2000],
    [4, 16000],
    [9, 16000],
  ])('retry %i without jitter sleeps %i ms', (retry, ms) => {
    expect(retryDelay(SCHEDULE, retry, () => 0.5)).toBe(ms);
  });

  it('stays within ±jitter of its step for any random draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
        const base = SCHEDULE[Math.min(retry, SCHEDULE.length - 1)] as number;
        const d = retryDelay(SCHEDULE, retry, () => r);
        return d >= Math.floor(base * (1 - DEFAULT_JITTER)) && d <= Math.ceil(base * (1 + DEFAULT_JITTER));
      }),
    );
  });

  it('retries at once with an empty schedule', () => {
    expect(retryDelay([], 3)).toBe(0);
  });

  it('sums the worst case of the default schedule to 31 s plus jitter', () => {
    expect(worstCaseRetryMs(SCHEDULE, 5, 0)).toBe(31000);
    expect(worstCaseRetryMs(SCHEDULE, 5)).toBe(37200);
  });
});

describe('chunk', () => {
  it('keeps every item once, in order, in pieces of at most size', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 500 }), fc.integer({ min: 1, max: 120 }), (items, size) => {
        const parts = chunk(items, size);
        expect(parts.flat()).toEqual(items);
        expect(parts.every((p) => p.length >= 1 && p.length <= size)).toBe(true);
        expect(parts.slice(0, -1).every((p) => p.length === size)).toBe(true);
      }),
    );
  });

  it('refuses a size below 1', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

describe('offsets and lag', () => {
  it('commits the offset after the last record, beyond 2^53 too', () => {
    expect(offsetAfter('41')).toBe('42');
    expect(offsetAfter('9007199254740993')).toBe('9007199254740994');
  });

  it.each([
    ['100', '40', 60],
    ['100', '100', 0],
    ['100', '120', 0],
  ])('lag of high %s from next %s is %i', (high, next, lag) => {
    expect(lagOf(high, next)).toBe(lag);
  });

  it('asks the broker for about a batch of bytes, never more than a partition returns', () => {
    expect(fetchMinBytes(100, 256, 1_048_576)).toBe(25_600);
    expect(fetchMinBytes(10_000, 256, 1_048_576)).toBe(1_048_576);
  });
});

describe('isolate', () => {
  const poison = (err: unknown) => err instanceof ImError && !err.retryable;

  it('finds exactly the poison items and runs every other item in a successful subset once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 }).chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.nat(n - 1), { maxLength: n }))),
        async ([n, bad]) => {
          const items = Array.from({ length: n }, (_, i) => i);
          const done: number[] = [];
          const out = await isolate(
            items,
            async (subset) => {
              if (subset.some((i) => bad.includes(i))) throw new ImError('INVALID_PAYLOAD', 'bad');
              done.push(...subset);
              return subset.length;
            },
            poison,
          );
          expect(out.failed.map((f) => f.item).sort((a, b) => a - b)).toEqual([...bad].sort((a, b) => a - b));
          expect(done.sort((a, b) => a - b)).toEqual(items.filter((i) => !bad.includes(i)));
          expect(out.results.reduce((s, r) => s + r, 0)).toBe(n - bad.length);
        },
      ),
    );
  });

  it('propagates a transient error instead of blaming a record', async () => {
    const run = async () => {
      throw new ImError('STORAGE_ERROR', 'down');
    };
    await expect(isolate([1, 2, 3], run, poison)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });
});

describe('dead letter', () => {
  const record: ConsumedRecord = {
    topic: 'offline_msg',
    partition: 3,
    offset: '1234',
    key: Buffer.from('user-1'),
    value: Buffer.from([0xde, 0xad]),
    headers: { 'im-schema': Buffer.from('im.events.v1.OfflineMessage'), multi: ['a', Buffer.from('b')] },
    timestamp: 1,
  };

  it('carries the error and the full origin of the record', () => {
    const dl = toDeadLetter(record, new ImError('INVALID_PAYLOAD', 'undecodable'), {
      consumerGroup: 'g',
      attempts: 2,
      now: 99,
    });
    expect(dl).toEqual({
      topic: 'offline_msg',
      partition: 3,
      offset: '1234',
      key: Buffer.from('user-1'),
      value: Buffer.from([0xde, 0xad]),
      headers: { 'im-schema': 'im.events.v1.OfflineMessage', multi: 'a,b' },
      errorCode: 'INVALID_PAYLOAD',
      errorMessage: 'undecodable',
      consumerGroup: 'g',
      failedAt: 99,
      attempts: 2,
    });
  });

  it('keys by the original key, or by the origin when there is none', () => {
    expect(deadLetterKey(record)).toBe('user-1');
    expect(deadLetterKey({ ...record, key: null })).toBe('offline_msg/3/1234');
    expect(headersAsText({ a: undefined, b: 'x' })).toEqual({ b: 'x' });
  });
});
