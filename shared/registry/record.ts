/**
 * What the registry says about one device, and the value stored under its key.
 *
 * The value is a small JSON object `{"v":1,"gatewayAddress":"10.0.0.1:9093",
 * "registeredAt":1700000000000}`; the user and device ids live in the key (keys.ts),
 * which is the one source of truth for them. JSON keeps any character of a gateway
 * address (`:`, `|`, IPv6 brackets) intact, and `v` lets a later layout be told apart.
 */

/** One registered device of a user and the gateway that holds its connection. */
export interface DeviceEntry {
  readonly userId: string;
  readonly deviceId: string;
  /** Where the router calls GatewayService for this device, e.g. `10.0.0.1:9093`. */
  readonly gatewayAddress: string;
  /** When the gateway registered this connection (ms since the epoch, gateway clock). */
  readonly registeredAt: number;
}

export const RECORD_VERSION = 1;

export interface DeviceRecord {
  readonly gatewayAddress: string;
  readonly registeredAt: number;
}

export function encodeRecord(record: DeviceRecord): Buffer {
  return Buffer.from(
    JSON.stringify({ v: RECORD_VERSION, gatewayAddress: record.gatewayAddress, registeredAt: record.registeredAt }),
  );
}

/** The record a value holds, or undefined when it is not one this version understands. */
export function decodeRecord(value: Buffer | string): DeviceRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { v, gatewayAddress, registeredAt } = parsed as Record<string, unknown>;
  if (v !== RECORD_VERSION) return undefined;
  if (typeof gatewayAddress !== 'string' || gatewayAddress === '') return undefined;
  if (typeof registeredAt !== 'number' || !Number.isSafeInteger(registeredAt)) return undefined;
  return { gatewayAddress, registeredAt };
}
