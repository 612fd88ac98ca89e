/**
 * The fast path: find the recipient's devices in the registry and push the message
 * to each through the gateway holding it — one PushMessage per gateway, all gateways
 * at once. Never throws: a registry outage, a stale entry, a dead or slow gateway all
 * end as "no device took it", and the caller takes the offline path for the message.
 */
import { isImError } from '../../shared/errors';
import type { PushEnvelope } from '../../shared/gen/gateway/v1/gateway';
import type { DeviceEntry } from '../../shared/registry';
import type { RoutePrivatePorts } from './ports';

export interface FastPathResult {
  /** Devices whose gateway confirmed the push, in registry order. */
  readonly delivered: string[];
  /** Devices the registry listed. */
  readonly known: number;
}

export async function pushToDevices(
  ports: Pick<RoutePrivatePorts, 'devices' | 'gateway' | 'metrics' | 'logger'>,
  recipientId: string,
  envelope: PushEnvelope,
  deadline: number,
): Promise<FastPathResult> {
  let devices: readonly DeviceEntry[];
  try {
    devices = await ports.devices.lookup(recipientId);
  } catch (err) {
    const code = isImError(err) ? err.code : 'REGISTRY_ERROR';
    ports.metrics.errors.inc({ fn: 'route-private', code });
    ports.logger.warn({ err: (err as Error).message, msgId: envelope.msgId }, 'registry lookup failed; offline path');
    return { delivered: [], known: 0 };
  }
  if (devices.length === 0) return { delivered: [], known: 0 };

  const byGateway = new Map<string, string[]>();
  for (const d of devices) {
    const list = byGateway.get(d.gatewayAddress);
    if (list) list.push(d.deviceId);
    else byGateway.set(d.gatewayAddress, [d.deviceId]);
  }
  const answers = await Promise.all(
    [...byGateway].map(([address, deviceIds]) =>
      ports.gateway.pushMessage(address, { userId: recipientId, deviceIds, message: envelope }, { deadline }),
    ),
  );
  const took = new Set(answers.flat().filter((r) => r.delivered).map((r) => r.deviceId));
  return { delivered: devices.map((d) => d.deviceId).filter((id) => took.has(id)), known: devices.length };
}
