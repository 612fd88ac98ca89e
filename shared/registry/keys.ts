/**
 * The registry's etcd key layout, built and parsed here and nowhere else
 * (docs/registry.md describes it for operators):
 *
 *   <prefix>users/<enc(userId)>/devices/<enc(deviceId)>  ->  device record (record.ts)
 *
 * `enc` is encodeURIComponent, so an id may hold any character (`/`, `:`, `|`, `%`,
 * CJK, emoji) and still maps to exactly one key: `/` never appears inside an encoded
 * id, which keeps `<prefix>users/<enc(a)>/` from being a prefix of another user's keys.
 * Every device key of every user lies under `<prefix>users/`, the range the routers
 * watch; every device of one user lies under `userPrefix(userId)`, the range the device
 * cap is counted and guarded on.
 */
import { ImError } from '../errors';

/** Ids longer than this are refused: etcd keys stay small and a typo'd blob fails fast. */
export const MAX_ID_LENGTH = 256;

export interface DeviceKey {
  readonly userId: string;
  readonly deviceId: string;
}

export class RegistryKeys {
  /** `<prefix>users/`: every device key lives under it. */
  readonly usersPrefix: string;

  constructor(readonly prefix: string) {
    if (prefix === '') throw new ImError('INVALID_ARGUMENT', 'registry prefix must not be empty');
    this.usersPrefix = `${prefix}users/`;
  }

  /** `<prefix>users/<enc(userId)>/devices/`: all of one user's devices. */
  userPrefix(userId: string): string {
    return `${this.usersPrefix}${encodeId(userId, 'userId')}/devices/`;
  }

  deviceKey(userId: string, deviceId: string): string {
    return `${this.userPrefix(userId)}${encodeId(deviceId, 'deviceId')}`;
  }

  /** The user and device a key names, or undefined for anything that is not a device key. */
  parseDeviceKey(key: string): DeviceKey | undefined {
    if (!key.startsWith(this.usersPrefix)) return undefined;
    const parts = key.slice(this.usersPrefix.length).split('/');
    if (parts.length !== 3 || parts[1] !== 'devices') return undefined;
    const userId = decodeId(parts[0] ?? '');
    const deviceId = decodeId(parts[2] ?? '');
    if (userId === undefined || deviceId === undefined) return undefined;
    return { userId, deviceId };
  }
}

/** The exclusive end of the key range holding every key that starts with `prefix`. */
export function prefixRangeEnd(prefix: string | Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: etcd reads "\0" as "to the end of the keyspace".
  return Buffer.from([0]);
}

/** Checks an id at the edge: non-empty, bounded, well-formed UTF-16 (encodable). */
export function assertId(id: unknown, field: 'userId' | 'deviceId'): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ImError('INVALID_ARGUMENT', `${field} must be a non-empty string`, { details: { field } });
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new ImError('INVALID_ARGUMENT', `${field} is longer than ${MAX_ID_LENGTH} characters`, {
      details: { field },
    });
  }
}

function encodeId(id: string, field: 'userId' | 'deviceId'): string {
  assertId(id, field);
  try {
    return encodeURIComponent(id);
  } catch (err) {
    // Only a lone UTF-16 surrogate gets here: it has no UTF-8 form to store.
    throw new ImError('INVALID_ARGUMENT', `${field} is not well-formed Unicode`, { cause: err, details: { field } });
  }
}

/** Decodes one path segment; a segment that is not the canonical encoding is foreign. */
function decodeId(segment: string): string | undefined {
  if (segment === '') return undefined;
  try {
    const id = decodeURIComponent(segment);
    return encodeURIComponent(id) === segment ? id : undefined;
  } catch {
    return undefined;
  }
}
