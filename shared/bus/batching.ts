/**
 * Pure helpers of the batch consumer: cutting what a fetch returned into batches of at
 * most BATCH_SIZE, the offset to commit after a batch (last + 1, as Kafka expects),
 * and the fetch's minBytes that lets the broker, not a client timer, hold a fetch
 * until about BATCH_SIZE records are there or BATCH_TIMEOUT passes.
 */

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Kafka commits the offset of the next record to read. Offsets are int64 strings. */
export const offsetAfter = (offset: string): string => (BigInt(offset) + 1n).toString();

/** Records left between `committed` (next to read) and the high watermark. */
export function lagOf(highWatermark: string, next: string): number {
  const lag = BigInt(highWatermark) - BigInt(next);
  return lag > 0n ? Number(lag) : 0;
}

/**
 * Fetch minBytes for about `batchSize` records of `bytesPerRecord` (record overhead
 * included), capped so one fetch never waits for more than a partition can return.
 */
export function fetchMinBytes(batchSize: number, bytesPerRecord: number, maxBytesPerPartition: number): number {
  return Math.max(1, Math.min(batchSize * bytesPerRecord, maxBytesPerPartition));
}
