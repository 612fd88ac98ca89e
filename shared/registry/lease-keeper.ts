/**
 * One gateway's etcd lease: granted on first need, renewed every `keepaliveIntervalMs`,
 * replaced when lost.
 *
 * The keepalive is driven here rather than by etcd3's Lease, whose interval is fixed at
 * TTL/3 and whose `lost` event fires only after 2 x TTL without an answer — long after
 * etcd has deleted every key on the lease. Here the lease counts as lost as soon as
 * etcd answers TTL 0 (expired or revoked), or when no keepalive has been answered for
 * a whole TTL since the last one that was (etcd may then have expired it; replacing a
 * lease that was in fact alive costs nothing, the gateway's entries are re-asserted on
 * the new one either way). Failed keepalives are retried sooner than the interval.
 * A new lease is requested until one is granted; `onRenewed` then lets the owner move
 * its keys over, after which the old lease is revoked (best effort) so nothing stays
 * behind on it.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../observability/logger';
import { sleep, withTimeout } from '../runtime/timeout';
import { callOptions, etcdCall, registryError } from './etcd-call';

export interface LeaseInfo {
  readonly id: string;
  /** The TTL etcd granted (it raises TTLs below its minimum, about 2 s by default). */
  readonly ttlMs: number;
}

export interface LeaseKeeperOptions {
  readonly client: Pick<Etcd3, 'leaseClient'>;
  readonly ttlMs: number;
  readonly keepaliveIntervalMs: number;
  /** Deadline of one grant, keepalive or revoke call. */
  readonly requestTimeoutMs: number;
  readonly logger?: Logger;
  /** A replacement lease is live: move everything over to it (awaited before the old one is revoked). */
  readonly onRenewed: (lease: LeaseInfo, old: LeaseInfo, reason: string) => Promise<void>;
  /** A keepalive was answered: a moment to retry anything that failed earlier. */
  readonly onKeepalive?: (lease: LeaseInfo) => void;
}

interface Held extends LeaseInfo {
  lastAnsweredAt: number;
}

export class LeaseKeeper {
  readonly #opts: LeaseKeeperOptions;
  #lease: Held | undefined;
  #granting: Promise<LeaseInfo> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #stop = new AbortController();
  #renewals = 0;

  constructor(opts: LeaseKeeperOptions) {
    this.#opts = opts;
  }

  /** The live lease, if any (undefined before the first grant and while replacing a lost one). */
  current(): LeaseInfo | undefined {
    return this.#lease ? { id: this.#lease.id, ttlMs: this.#lease.ttlMs } : undefined;
  }

  get renewals(): number {
    return this.#renewals;
  }

  /** The live lease, granting one if needed; REGISTRY_ERROR if none by `deadlineMs`. */
  async acquire(deadlineMs: number): Promise<LeaseInfo> {
    if (this.#closed) throw registryError('lease', new Error('registration is closed'));
    const lease = this.current();
    if (lease) return lease;
    this.#granting ??= this.#grantUntilGranted();
    try {
      return await withTimeout(this.#granting, Math.max(1, deadlineMs - Date.now()), 'registry lease grant');
    } catch (err) {
      throw registryError('lease grant', err);
    }
  }

  /** Stops renewing; with `revoke`, also ends the lease so its keys go at once. */
  async close(revoke: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    clearTimeout(this.#timer);
    const lease = this.#lease;
    this.#lease = undefined;
    if (revoke && lease) await this.#revoke(lease);
  }

  async #grantUntilGranted(): Promise<LeaseInfo> {
    let backoffMs = 100;
    for (;;) {
      if (this.#closed) throw new Error('registration is closed');
      try {
        const askedAt = Date.now();
        const res = await etcdCall('lease grant', askedAt + this.#opts.requestTimeoutMs, (opts) =>
          this.#opts.client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(this.#opts.ttlMs / 1000)) }, opts),
        );
        const lease: Held = { id: String(res.ID), ttlMs: Number(res.TTL) * 1000, lastAnsweredAt: askedAt };
        if (this.#closed) {
          await this.#revoke(lease);
          throw new Error('registration is closed');
        }
        this.#lease = lease;
        this.#granting = undefined;
        this.#schedule(this.#opts.keepaliveIntervalMs);
        return { id: lease.id, ttlMs: lease.ttlMs };
      } catch (err) {
        if (this.#closed) throw err;
        this.#opts.logger?.warn({ err: String(err), retryInMs: backoffMs }, 'registry lease grant failed; retrying');
        await sleep(backoffMs, this.#stop.signal);
        backoffMs = Math.min(backoffMs * 2, 2000);
      }
    }
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#keepalive(), delayMs);
    this.#timer.unref();
  }

  async #keepalive(): Promise<void> {
    const lease = this.#lease;
    if (!lease || this.#closed) return;
    const sentAt = Date.now();
    let ttl: number;
    try {
      ttl = await keepaliveOnce(this.#opts.client, lease.id, sentAt + this.#opts.requestTimeoutMs);
    } catch (err) {
      if (lease !== this.#lease) return;
      if (Date.now() - lease.lastAnsweredAt >= lease.ttlMs) {
        this.#lost(lease, `no keepalive answered for ${lease.ttlMs} ms (${String(err)})`);
        return;
      }
      const retryMs = Math.max(100, Math.min(this.#opts.keepaliveIntervalMs, lease.ttlMs / 10));
      this.#opts.logger?.warn({ err: String(err), retryInMs: retryMs }, 'registry keepalive failed');
      this.#schedule(retryMs);
      return;
    }
    if (lease !== this.#lease) return;
    if (ttl <= 0) {
      this.#lost(lease, 'etcd reports the lease expired or revoked');
      return;
    }
    // etcd restarts the TTL when it receives the keepalive, which is after we sent it.
    lease.lastAnsweredAt = sentAt;
    this.#schedule(this.#opts.keepaliveIntervalMs);
    this.#opts.onKeepalive?.({ id: lease.id, ttlMs: lease.ttlMs });
  }

  #lost(old: Held, reason: string): void {
    this.#lease = undefined;
    clearTimeout(this.#timer);
    this.#opts.logger?.warn({ lease: old.id, reason }, 'registry lease lost; granting a new one');
    this.#granting = this.#grantUntilGranted();
    this.#granting.then(
      async (lease) => {
        this.#renewals += 1;
        try {
          await this.#opts.onRenewed(lease, { id: old.id, ttlMs: old.ttlMs }, reason);
        } catch (err) {
          this.#opts.logger?.warn({ err: String(err) }, 'registry: moving entries to the new lease failed');
        }
        await this.#revoke(old);
      },
      () => undefined, // closed while granting
    );
  }

  async #revoke(lease: LeaseInfo): Promise<void> {
    try {
      await this.#opts.client.leaseClient.leaseRevoke(
        { ID: lease.id },
        callOptions(Date.now() + this.#opts.requestTimeoutMs),
      );
    } catch (err) {
      // Already expired or unreachable: either way it ends by its TTL.
      this.#opts.logger?.debug({ lease: lease.id, err: String(err) }, 'registry lease revoke failed');
    }
  }
}

/** Sends one keepalive for `leaseId` and returns the TTL etcd answers (0: lease gone). */
async function keepaliveOnce(client: Pick<Etcd3, 'leaseClient'>, leaseId: string, deadlineMs: number): Promise<number> {
  const stream = await client.leaseClient.leaseKeepAlive(callOptions(deadlineMs));
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (err: unknown, ttl?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.on('error', () => undefined);
      // Half-close first: etcd3 treats an error on a still-writable stream as a failed
      // host and re-dials every channel of the client.
      stream.end();
      stream.cancel();
      if (err === undefined) resolve(ttl ?? 0);
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const timer = setTimeout(() => finish(new Error('keepalive timed out')), Math.max(1, deadlineMs - Date.now()));
    stream.on('data', (res) => finish(undefined, Number(res.TTL)));
    stream.on('error', (err) => finish(err));
    stream.on('end', () => finish(new Error('keepalive stream ended')));
    stream.write({ ID: leaseId });
  });
}
