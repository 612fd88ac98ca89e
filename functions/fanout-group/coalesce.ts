/**
 * Coalescing of PushBatch requests bound for one gateway: several queued requests become
 * one call, and the call's device results are handed back to each request as if it had
 * been sent alone. Pure; used by the gateway lanes (lanes.ts).
 *
 * Why: a PushBatch call costs the fanout process about as much CPU (gRPC framing, HTTP/2
 * stream, answer handling) as a few dozen targets do, and a large group's rounds give
 * each gateway only FANOUT_BATCH_SIZE × online share ÷ gateways targets (~19 at 500,
 * 30%, 8 gateways). While a lane is busy its queue fills; sending what queued as one call
 * cuts the calls without ever holding a request back.
 */
import { PushFailure } from '../../shared/gateway';
import type { DeviceResult, PushBatchRequest, PushEnvelope, PushTarget } from '../../shared/gen/gateway/v1/gateway';

/** Devices a request addresses (its targets' device ids). */
export function deviceCount(request: PushBatchRequest): number {
  let n = 0;
  for (const t of request.targets) n += t.deviceIds.length;
  return n;
}

/** Characters of the request's envelopes' content (the bulk of its bytes). */
export function contentSize(request: PushBatchRequest): number {
  let n = 0;
  for (const m of request.messages) n += m.content.length;
  return n;
}

/** One request carrying every target of `requests`, each message once (by msg_id). */
export function mergeRequests(requests: readonly PushBatchRequest[]): PushBatchRequest {
  if (requests.length === 1) return requests[0] as PushBatchRequest;
  const messages: PushEnvelope[] = [];
  const byMsgId = new Map<string, number>();
  const targets: PushTarget[] = [];
  for (const r of requests) {
    const remap = r.messages.map((m) => {
      let i = byMsgId.get(m.msgId);
      if (i === undefined) {
        i = messages.push(m) - 1;
        byMsgId.set(m.msgId, i);
      }
      return i;
    });
    for (const t of r.targets) {
      const messageIndex = remap[t.messageIndex];
      // A target whose message its own request lacks cannot be delivered: its devices get NO_RESULT.
      if (messageIndex !== undefined) targets.push({ userId: t.userId, deviceIds: t.deviceIds, messageIndex });
    }
  }
  return { messages, targets };
}

const resultKey = (msgId: string, userId: string, deviceId: string): string => `${msgId}\n${userId}\n${deviceId}`;

/**
 * The results of each of `requests` out of one call's `results` (the call carried
 * mergeRequests(requests), or the one request itself): one per device of each request,
 * in the order of its targets and their device ids; a device the answer does not
 * mention is not delivered. An answer in the order asked (as GatewayClient gives) is
 * sliced; any other order is matched by (msg_id, user, device).
 */
export function splitResults(requests: readonly PushBatchRequest[], results: readonly DeviceResult[]): DeviceResult[][] {
  return sliceInOrder(requests, results) ?? matchByKey(requests, results);
}

function sliceInOrder(requests: readonly PushBatchRequest[], results: readonly DeviceResult[]): DeviceResult[][] | undefined {
  const out: DeviceResult[][] = [];
  let pos = 0;
  for (const req of requests) {
    const mine: DeviceResult[] = [];
    for (const t of req.targets) {
      const msgId = req.messages[t.messageIndex]?.msgId;
      for (const deviceId of t.deviceIds) {
        const r = results[pos++];
        if (!r || r.userId !== t.userId || r.deviceId !== deviceId || r.msgId !== msgId) return undefined;
        mine.push(r);
      }
    }
    out.push(mine);
  }
  return pos === results.length ? out : undefined;
}

function matchByKey(requests: readonly PushBatchRequest[], results: readonly DeviceResult[]): DeviceResult[][] {
  const byKey = new Map<string, DeviceResult>();
  for (const r of results) byKey.set(resultKey(r.msgId, r.userId, r.deviceId), r);
  return requests.map((req) => {
    const out: DeviceResult[] = [];
    for (const t of req.targets) {
      const msgId = req.messages[t.messageIndex]?.msgId ?? '';
      for (const deviceId of t.deviceIds) {
        const r = byKey.get(resultKey(msgId, t.userId, deviceId));
        out.push(r ?? { userId: t.userId, deviceId, msgId, delivered: false, reason: PushFailure.NO_RESULT });
      }
    }
    return out;
  });
}
