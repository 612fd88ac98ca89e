/**
 * The two writes a gateway makes, each one etcd transaction.
 *
 * putDevice enforces the per-user device cap atomically. It reads the user's device
 * keys at revision R, decides (replace the same device, add a new one, or refuse at the
 * cap), and commits only if no key under the user's prefix was created or modified
 * after R — a compare over the whole prefix range (`mod_revision < R+1`, etcd >= 3.3).
 * Deletions (a lease expiring, a deregister) are not seen by that compare, and need not
 * be: they only lower the count. When the compare fails, the same transaction returns
 * the user's keys as of now, so a retry costs one round trip, and of any set of racing
 * writers at least one commits per round. 20 concurrent registrations for one user
 * therefore store exactly `maxDevices`.
 *
 * deleteDeviceIf deletes a device only while it still holds the value this gateway
 * wrote: if the device reconnected through another gateway meanwhile, that gateway's
 * entry stays.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import { ImError } from '../errors';
import { sleep } from '../runtime/timeout';
import { etcdCall } from './etcd-call';
import { prefixRangeEnd, type RegistryKeys } from './keys';

/** claim: a new connection, taking the device over; reassert: restoring our own entry. */
export type PutMode = 'claim' | 'reassert';
/** stored; taken: another writer holds the device now; full: the user is at the cap. */
export type PutOutcome = 'stored' | 'taken' | 'full';

export interface PutDeviceRequest {
  readonly keys: RegistryKeys;
  readonly userId: string;
  readonly deviceId: string;
  readonly value: Buffer;
  readonly leaseId: string;
  readonly maxDevices: number;
  readonly mode: PutMode;
  readonly deadlineMs: number;
}

const MAX_ATTEMPTS = 100;

/**
 * Stores the device under the lease if the cap allows. In claim mode a full user is
 * DEVICE_LIMIT_EXCEEDED; in reassert mode the existing value must equal `value`.
 */
export async function putDevice(client: Pick<Etcd3, 'kv'>, req: PutDeviceRequest): Promise<PutOutcome> {
  const userPrefix = Buffer.from(req.keys.userPrefix(req.userId));
  const rangeEnd = prefixRangeEnd(userPrefix);
  const key = Buffer.from(req.keys.deviceKey(req.userId, req.deviceId));
  const first = await etcdCall('register', req.deadlineMs, (opts) =>
    client.kv.range({ key: userPrefix, range_end: rangeEnd }, opts),
  );
  let kvs: IKeyValue[] = first.kvs;
  let revision = Number(first.header.revision);
  for (let attempt = 1; ; attempt++) {
    const existing = kvs.find((kv) => kv.key.equals(key));
    if (req.mode === 'reassert' && existing && !existing.value.equals(req.value)) return 'taken';
    const others = kvs.length - (existing ? 1 : 0);
    if (others >= req.maxDevices) {
      if (req.mode === 'reassert') return 'full';
      throw new ImError('DEVICE_LIMIT_EXCEEDED', `user already has ${others} registered devices (max ${req.maxDevices})`, {
        details: { maxDevices: req.maxDevices },
      });
    }
    const res = await etcdCall('register', req.deadlineMs, (opts) =>
      client.kv.txn(
        {
          compare: [
            { key: userPrefix, range_end: rangeEnd, target: 'Mod', result: 'Less', mod_revision: String(revision + 1) },
          ],
          success: [{ request_put: { key, value: req.value, lease: req.leaseId } }],
          failure: [{ request_range: { key: userPrefix, range_end: rangeEnd } }],
        },
        opts,
      ),
    );
    if (res.succeeded) return 'stored';
    if (attempt >= MAX_ATTEMPTS) {
      throw new ImError('REGISTRY_ERROR', `registry register: still contended after ${attempt} attempts`);
    }
    kvs = res.responses[0]?.response_range?.kvs ?? [];
    revision = Number(res.header.revision);
    // A little jitter so that the writers that lost this round do not collide again in lockstep.
    await sleep(Math.random() * Math.min(20, attempt * 2));
  }
}

/** Deletes `key` only if it still holds `value`; true when it did. */
export async function deleteDeviceIf(
  client: Pick<Etcd3, 'kv'>,
  key: string,
  value: Buffer,
  deadlineMs: number,
): Promise<boolean> {
  const k = Buffer.from(key);
  const res = await etcdCall('deregister', deadlineMs, (opts) =>
    client.kv.txn(
      {
        compare: [{ key: k, target: 'Value', result: 'Equal', value }],
        success: [{ request_delete_range: { key: k } }],
      },
      opts,
    ),
  );
  return res.succeeded;
}
