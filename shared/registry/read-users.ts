/**
 * Reads the devices of many users in few round trips: one etcd transaction carries up
 * to MAX_TXN_OPS range reads (one per user prefix), and the transactions of one call
 * run concurrently. 500 users cost 4 concurrent RPCs (one network round trip), where
 * one Range per user would cost 500 RPCs, and one range over all of `users/` would
 * drag in every online user of the deployment. A transaction is also one consistent
 * snapshot, so its users share one revision, which is what the cache needs to know.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Logger } from '../observability/logger';
import { etcdCall } from './etcd-call';
import { prefixRangeEnd, type RegistryKeys } from './keys';
import { decodeRecord, type DeviceEntry } from './record';

/** etcd's default `--max-txn-ops`; a server configured lower would refuse bigger batches. */
export const MAX_TXN_OPS = 128;

export interface UserSnapshot {
  readonly userId: string;
  readonly devices: DeviceEntry[];
  /** The etcd revision the devices are exact for. */
  readonly revision: number;
}

/** One snapshot per user id (ids must be distinct), or REGISTRY_ERROR by `deadlineMs`. */
export async function readUsers(
  client: Pick<Etcd3, 'kv'>,
  keys: RegistryKeys,
  userIds: readonly string[],
  deadlineMs: number,
  logger?: Logger,
): Promise<UserSnapshot[]> {
  const chunks: string[][] = [];
  for (let i = 0; i < userIds.length; i += MAX_TXN_OPS) chunks.push(userIds.slice(i, i + MAX_TXN_OPS));
  const results = await Promise.all(
    chunks.map(async (chunk) => {
      const prefixes = chunk.map((u) => Buffer.from(keys.userPrefix(u)));
      const res = await etcdCall('lookup', deadlineMs, (opts) =>
        client.kv.txn(
          { success: prefixes.map((key) => ({ request_range: { key, range_end: prefixRangeEnd(key) } })) },
          opts,
        ),
      );
      const revision = Number(res.header.revision);
      return chunk.map((userId, i) => ({
        userId,
        revision,
        devices: decodeDevices(keys, userId, res.responses[i]?.response_range?.kvs ?? [], logger),
      }));
    }),
  );
  return results.flat();
}

/** The device entries among one user's keys; a key or value this version cannot read is skipped. */
export function decodeDevices(
  keys: RegistryKeys,
  userId: string,
  kvs: readonly IKeyValue[],
  logger?: Logger,
): DeviceEntry[] {
  const devices: DeviceEntry[] = [];
  for (const kv of kvs) {
    const entry = decodeEntry(keys, kv);
    if (entry && entry.userId === userId) devices.push(entry);
    else logger?.warn({ key: kv.key.toString() }, 'registry: skipping an unreadable device entry');
  }
  return devices;
}

export function decodeEntry(keys: RegistryKeys, kv: Pick<IKeyValue, 'key' | 'value'>): DeviceEntry | undefined {
  const id = keys.parseDeviceKey(kv.key.toString('utf8'));
  const record = id && decodeRecord(kv.value);
  if (!id || !record) return undefined;
  return { userId: id.userId, deviceId: id.deviceId, ...record };
}
