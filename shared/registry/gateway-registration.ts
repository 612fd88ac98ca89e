/**
 * The gateway side of the registry: the devices one gateway holds, registered on one
 * long-lived lease (lease-keeper.ts) so that they all vanish TTL after the gateway
 * dies, and moved to a new lease when the old one is lost.
 *
 * Every operation on one device key runs in order (a per-key queue), so a register, a
 * deregister and a re-assertion after lease loss never interleave on the same device.
 * Each held device remembers the lease its entry was last stored under; a device whose
 * lease is not the current one is "dirty" and is re-asserted (only if the key is absent
 * or still holds exactly what this gateway wrote: a device that has since connected
 * through another gateway is left there). A deregister that could not reach etcd is
 * retried in the background, so no entry outlives its connection on a live lease.
 */
import type { Etcd3 } from 'etcd3';
import type { Config } from '../config';
import { ConfigError, ImError } from '../errors';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { deleteDeviceIf, putDevice } from './device-txn';
import { assertId, RegistryKeys } from './keys';
import { LeaseKeeper, type LeaseInfo } from './lease-keeper';
import { encodeRecord, type DeviceEntry } from './record';

export type GatewayRegistrationConfig = Pick<
  Config['registry'],
  'prefix' | 'ttlMs' | 'keepaliveIntervalMs' | 'maxDevicesPerUser'
>;

export interface GatewayRegistrationOptions {
  readonly etcd: Pick<Etcd3, 'kv' | 'leaseClient'>;
  readonly config: GatewayRegistrationConfig;
  /** Where routers reach this gateway's GatewayService, e.g. `10.0.0.1:9093`. */
  readonly gatewayAddress: string;
  readonly logger?: Logger;
  readonly metrics?: Pick<Metrics, 'registryLeaseRenewals'>;
  /** Deadline of one register/deregister (including waiting for a lease). */
  readonly requestTimeoutMs?: number;
  readonly clock?: () => number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** Re-assertions after a lease loss run this many at a time. */
const RESYNC_CONCURRENCY = 32;

interface HeldDevice {
  readonly entry: DeviceEntry;
  readonly value: Buffer;
  /** The lease the entry is known to be stored under. */
  leaseId: string;
}

export class GatewayRegistration {
  readonly gatewayAddress: string;
  readonly keys: RegistryKeys;
  readonly #opts: GatewayRegistrationOptions;
  readonly #keeper: LeaseKeeper;
  readonly #held = new Map<string, HeldDevice>();
  /** Deregistered devices whose delete has not reached etcd yet: key -> the value we wrote. */
  readonly #pendingDeletes = new Map<string, Buffer>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #timeoutMs: number;
  readonly #clock: () => number;
  #resync: Promise<void> | undefined;
  #closed = false;

  constructor(opts: GatewayRegistrationOptions) {
    const { ttlMs, keepaliveIntervalMs } = opts.config;
    if (keepaliveIntervalMs >= ttlMs) {
      throw new ConfigError('REGISTRY_KEEPALIVE_INTERVAL', `must be shorter than REGISTRY_TTL (${ttlMs} ms)`);
    }
    if (opts.gatewayAddress === '') throw new ImError('INVALID_ARGUMENT', 'gatewayAddress must not be empty');
    this.#opts = opts;
    this.gatewayAddress = opts.gatewayAddress;
    this.keys = new RegistryKeys(opts.config.prefix);
    this.#timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#clock = opts.clock ?? Date.now;
    this.#keeper = new LeaseKeeper({
      client: opts.etcd,
      ttlMs,
      keepaliveIntervalMs,
      requestTimeoutMs: Math.min(this.#timeoutMs, keepaliveIntervalMs),
      ...(opts.logger ? { logger: opts.logger } : {}),
      onRenewed: async (lease, old, reason) => {
        opts.metrics?.registryLeaseRenewals.inc();
        opts.logger?.info({ lease: lease.id, old: old.id, reason, devices: this.#held.size }, 'registry lease replaced');
        await this.#resyncNow();
      },
      onKeepalive: () => {
        if (this.#pendingDeletes.size > 0 || this.#dirtyCount() > 0) void this.#resyncNow();
      },
    });
  }

  /** The current lease id (undefined before the first registration and while replacing a lost lease). */
  leaseId(): string | undefined {
    return this.#keeper.current()?.id;
  }

  /** The devices this gateway holds registrations for. */
  devices(): DeviceEntry[] {
    return [...this.#held.values()].map((h) => h.entry);
  }

  stats(): Record<string, unknown> {
    return {
      gatewayAddress: this.gatewayAddress,
      lease: this.leaseId() ?? null,
      devices: this.#held.size,
      dirty: this.#dirtyCount(),
      pendingDeletes: this.#pendingDeletes.size,
      leaseRenewals: this.#keeper.renewals,
    };
  }

  /**
   * Registers a connected device on this gateway, replacing the device's previous
   * entry wherever it was. DEVICE_LIMIT_EXCEEDED when the user already has the maximum
   * of other devices; REGISTRY_ERROR when etcd cannot be reached in time.
   */
  async register(userId: string, deviceId: string): Promise<DeviceEntry> {
    assertId(userId, 'userId');
    assertId(deviceId, 'deviceId');
    const key = this.keys.deviceKey(userId, deviceId);
    const deadlineMs = Date.now() + this.#timeoutMs;
    return this.#inOrder(key, async () => {
      this.#assertOpen();
      const entry: DeviceEntry = { userId, deviceId, gatewayAddress: this.gatewayAddress, registeredAt: this.#clock() };
      const value = encodeRecord(entry);
      this.#pendingDeletes.delete(key);
      for (;;) {
        const lease = await this.#keeper.acquire(deadlineMs);
        await putDevice(this.#opts.etcd, {
          keys: this.keys,
          userId,
          deviceId,
          value,
          leaseId: lease.id,
          maxDevices: this.#opts.config.maxDevicesPerUser,
          mode: 'claim',
          deadlineMs,
        });
        // Stored under a lease that was replaced meanwhile: store again under the new one.
        if (this.#keeper.current()?.id !== lease.id) continue;
        this.#held.set(key, { entry, value, leaseId: lease.id });
        return entry;
      }
    });
  }

  /**
   * Removes a device's registration if this gateway still holds it. Resolves whether
   * an entry was deleted; REGISTRY_ERROR when etcd cannot be reached (the delete is
   * then retried in the background).
   */
  async deregister(userId: string, deviceId: string): Promise<boolean> {
    assertId(userId, 'userId');
    assertId(deviceId, 'deviceId');
    const key = this.keys.deviceKey(userId, deviceId);
    const deadlineMs = Date.now() + this.#timeoutMs;
    return this.#inOrder(key, async () => {
      const held = this.#held.get(key);
      if (!held) return false;
      this.#held.delete(key);
      try {
        return await deleteDeviceIf(this.#opts.etcd, key, held.value, deadlineMs);
      } catch (err) {
        this.#pendingDeletes.set(key, held.value);
        throw err;
      }
    });
  }

  /** Revokes the lease: every device of this gateway leaves the registry at once. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#keeper.close(true);
    this.#held.clear();
    this.#pendingDeletes.clear();
  }

  /** Stops renewing without revoking: entries expire one TTL later (as if the gateway died). */
  async release(): Promise<void> {
    this.#closed = true;
    await this.#keeper.close(false);
    this.#held.clear();
    this.#pendingDeletes.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ImError('REGISTRY_ERROR', 'gateway registration is closed');
  }

  #dirtyCount(): number {
    const current = this.#keeper.current()?.id;
    let n = 0;
    for (const h of this.#held.values()) if (h.leaseId !== current) n += 1;
    return n;
  }

  /** One re-assertion pass at a time; a pass started while one runs joins it. */
  #resyncNow(): Promise<void> {
    this.#resync ??= this.#resyncPass().finally(() => {
      this.#resync = undefined;
    });
    return this.#resync;
  }

  async #resyncPass(): Promise<void> {
    const lease = this.#keeper.current();
    if (!lease || this.#closed) return;
    const work: Array<() => Promise<void>> = [];
    for (const [key, held] of this.#held) {
      if (held.leaseId !== lease.id) work.push(() => this.#inOrder(key, () => this.#reassert(key, lease)));
    }
    for (const [key, value] of this.#pendingDeletes) {
      work.push(() => this.#inOrder(key, () => this.#retryDelete(key, value)));
    }
    await runLimited(work, RESYNC_CONCURRENCY);
  }

  async #reassert(key: string, lease: LeaseInfo): Promise<void> {
    const held = this.#held.get(key);
    if (!held || held.leaseId === lease.id || this.#keeper.current()?.id !== lease.id || this.#closed) return;
    try {
      const outcome = await putDevice(this.#opts.etcd, {
        keys: this.keys,
        userId: held.entry.userId,
        deviceId: held.entry.deviceId,
        value: held.value,
        leaseId: lease.id,
        maxDevices: this.#opts.config.maxDevicesPerUser,
        mode: 'reassert',
        deadlineMs: Date.now() + this.#timeoutMs,
      });
      if (outcome === 'stored') {
        held.leaseId = lease.id;
        return;
      }
      // The device re-connected elsewhere, or its user filled the cap meanwhile: not ours any more.
      this.#held.delete(key);
      this.#opts.logger?.warn({ key, outcome }, 'registry: device not re-registered after lease loss');
    } catch (err) {
      this.#opts.logger?.warn({ key, err: String(err) }, 'registry: re-registration failed; will retry');
    }
  }

  async #retryDelete(key: string, value: Buffer): Promise<void> {
    if (this.#pendingDeletes.get(key) !== value) return;
    try {
      await deleteDeviceIf(this.#opts.etcd, key, value, Date.now() + this.#timeoutMs);
      this.#pendingDeletes.delete(key);
    } catch (err) {
      this.#opts.logger?.warn({ key, err: String(err) }, 'registry: deregistration failed again; will retry');
    }
  }

  /** Runs `work` after every earlier operation on `key` has settled. */
  #inOrder<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return run;
  }
}

/** Runs the thunks with at most `limit` in flight. */
async function runLimited(work: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, work.length) }, async () => {
    while (next < work.length) {
      const job = work[next++]!;
      await job();
    }
  });
  await Promise.all(lanes);
}
