/**
 * Keeps a MembershipCache honest: reads membership_change and drops what the cache
 * holds about each changed group.
 *
 * Every instance must see every event, so each one joins a consumer group of its own
 * (`<prefix>-<host>-<random>`), starts from the latest offset and never commits: there
 * is nothing to resume, a restarted instance starts with an empty cache. Whenever the
 * feed may have missed events — on every (re)join and after a crash — the whole cache
 * is cleared, so a gap costs a few cache misses, never a stale answer. The cache's TTL
 * covers what is left (an event published but not yet delivered).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer, Kafka } from 'kafkajs';
import { decodeEvent } from '../bus/codec';
import { ImError } from '../errors';
import type { Logger } from '../observability/logger';
import { withTimeout } from '../runtime/timeout';
import type { Worker } from '../runtime/types';

export interface MembershipFeedOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupIdPrefix: string;
  readonly cache: { invalidate(groupId: string): void; clear(): void };
  readonly logger: Logger;
  readonly sessionTimeoutMs: number;
  readonly stopTimeoutMs?: number;
}

export class MembershipFeed implements Worker {
  readonly name = 'membership-feed';
  readonly groupId: string;
  readonly #o: MembershipFeedOptions;
  readonly #log: Logger;
  #consumer: Consumer | undefined;
  #joined = false;
  #stopped = false;
  readonly #stats = { applied: 0, skipped: 0, joins: 0, crashes: 0, lastEventAt: 0 };

  constructor(opts: MembershipFeedOptions) {
    this.#o = opts;
    const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
    this.groupId = `${opts.groupIdPrefix}-${host}-${randomUUID().slice(0, 8)}`;
    this.#log = opts.logger.child({ worker: this.name, topic: opts.topic, group: this.groupId });
  }

  async start(): Promise<void> {
    const o = this.#o;
    const consumer = o.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      o.cache.clear();
      this.#joined = true;
      this.#stats.joins += 1;
    });
    consumer.on(consumer.events.CRASH, (e) => {
      o.cache.clear();
      this.#joined = false;
      this.#stats.crashes += 1;
      this.#log.warn({ err: e.payload.error.message }, 'membership feed crashed; cache cleared');
    });
    consumer.on(consumer.events.STOP, () => (this.#joined = false));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          try {
            const change = decodeEvent('im.events.v1.MembershipChange', message.value ?? null, message.headers ?? {});
            o.cache.invalidate(change.groupId);
            this.#stats.applied += 1;
            this.#stats.lastEventAt = Date.now();
          } catch (err) {
            // Unreadable events cannot name a group; the TTL covers whatever they meant.
            this.#stats.skipped += 1;
            this.#log.warn({ err: (err as Error).message, offset: message.offset }, 'membership event skipped');
          }
        },
      });
    } catch (err) {
      throw new ImError('KAFKA_ERROR', `membership feed on ${o.topic} failed to start: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const consumer = this.#consumer;
    if (!consumer) return;
    try {
      await withTimeout(consumer.disconnect(), this.#o.stopTimeoutMs ?? 10_000, 'membership feed disconnect');
    } catch (err) {
      this.#log.warn({ err: String(err) }, 'membership feed did not leave its group cleanly');
    }
    this.#joined = false;
  }

  ready(): boolean {
    return this.#joined && !this.#stopped;
  }

  stats(): Record<string, unknown> {
    return { ready: this.ready(), group: this.groupId, ...this.#stats };
  }
}
