/**
 * Consumer lag as KEDA sees it — the partition's high watermark minus the group's
 * committed offset — read with the admin client every interval for the partitions this
 * member owns. Batches update the gauge as they go; this periodic read keeps it true
 * while a partition is paused (database outage) or idle, when no batch arrives.
 */
import type { Admin } from 'kafkajs';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { lagOf } from './batching';

export type LagGauge = Metrics['consumerLag'];

export interface LagReporterOptions {
  admin: () => Promise<Admin>;
  groupId: string;
  topic: string;
  gauge: LagGauge;
  logger: Logger;
  intervalMs: number;
  /** Partitions currently owned by this member. */
  owned: () => readonly number[];
}

export class LagReporter {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  readonly #last = new Map<number, number>();

  constructor(private readonly opts: LagReporterOptions) {}

  start(): void {
    if (this.#timer || this.opts.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.#running ??= this.refresh()
        .catch((err: unknown) => this.opts.logger.debug({ err: String(err) }, 'lag refresh failed'))
        .finally(() => (this.#running = undefined));
    }, this.opts.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Sets the gauge for one partition (also called by the consumer after each batch). */
  set(partition: number, lag: number): void {
    this.#last.set(partition, lag);
    this.opts.gauge.set({ group: this.opts.groupId, topic: this.opts.topic, partition: String(partition) }, lag);
  }

  /** Drops partitions this member no longer owns, so two members never report one. */
  retain(owned: readonly number[]): void {
    for (const p of [...this.#last.keys()]) {
      if (owned.includes(p)) continue;
      this.#last.delete(p);
      this.opts.gauge.remove({ group: this.opts.groupId, topic: this.opts.topic, partition: String(p) });
    }
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#last].sort((a, b) => a[0] - b[0]).map(([p, l]) => [String(p), l]));
  }

  async refresh(): Promise<void> {
    const owned = this.opts.owned();
    if (owned.length === 0) return;
    const admin = await this.opts.admin();
    const [high, committed] = await Promise.all([
      admin.fetchTopicOffsets(this.opts.topic),
      admin.fetchOffsets({ groupId: this.opts.groupId, topics: [this.opts.topic] }),
    ]);
    const next = new Map(
      (committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset] as const),
    );
    for (const p of high) {
      if (!owned.includes(p.partition)) continue;
      const c = next.get(p.partition);
      // No commit yet: the group starts at the earliest offset (fromBeginning).
      const from = c === undefined || c === '-1' ? p.low : c;
      this.set(p.partition, lagOf(p.high, from));
    }
  }
}
