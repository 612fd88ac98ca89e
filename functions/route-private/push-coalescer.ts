/**
 * Coalesces the fast path's pushes per gateway, by load: the PushMessage calls the
 * router starts towards one gateway leave as one PushBatch (each message once, one
 * target per message) at the end of the event-loop turn — or, while a call to that
 * gateway is already out, once it answers, so a busy router sends few, full calls
 * (a gateway call costs the router far more than a message in it). A second call runs
 * beside the first only once `laneMinBatch` pushes wait, at most `maxInFlight`. A lone
 * push still goes out as PushMessage.
 *
 * A batch runs on the wrapped client (channel pool, breaker, retries) with the earliest
 * deadline of its members, so no caller waits past its own; a push still waiting when
 * its deadline comes (its gateway is slow to answer the call before) is answered "not
 * delivered" (GATEWAY_TIMEOUT) then, and the router takes the offline path as for a
 * timed-out push. Each caller gets the results of its own devices; a device the gateway
 * said nothing about counts as not delivered (NO_RESULT), exactly as for a single push.
 */
import { PushFailure, type GatewayPusher, type PushOptions } from '../../shared/gateway';
import type { DeviceResult, PushBatchRequest, PushMessageRequest } from '../../shared/gen/gateway/v1/gateway';

interface Waiting {
  readonly req: PushMessageRequest;
  readonly deadline: number;
  readonly resolve: (results: DeviceResult[]) => void;
  readonly reject: (err: unknown) => void;
}

interface Gateway {
  queue: Waiting[];
  inflight: number;
  /** Set while a flush at the end of the turn is pending. */
  scheduled: boolean;
  /** Wakes at the earliest deadline of the waiting pushes. */
  expiry: NodeJS.Timeout | undefined;
  expiryAt: number;
}

export interface PushCoalescerOptions {
  readonly maxInFlight?: number;
  readonly laneMinBatch?: number;
  readonly maxBatch?: number;
  readonly clock?: () => number;
}

export class PushCoalescer implements GatewayPusher {
  readonly #gateways = new Map<string, Gateway>();
  readonly #maxInFlight: number;
  readonly #laneMinBatch: number;
  readonly #maxBatch: number;
  readonly #clock: () => number;

  constructor(
    private readonly gateway: GatewayPusher,
    opts: PushCoalescerOptions = {},
  ) {
    this.#maxInFlight = opts.maxInFlight ?? 4;
    this.#laneMinBatch = opts.laneMinBatch ?? 32;
    this.#maxBatch = opts.maxBatch ?? 256;
    this.#clock = opts.clock ?? Date.now;
  }

  pushMessage(address: string, req: PushMessageRequest, opts: PushOptions = {}): Promise<DeviceResult[]> {
    // A caller that may cancel keeps its own call: one member must not cancel a batch.
    if (opts.signal || !req.message || req.deviceIds.length === 0) return this.gateway.pushMessage(address, req, opts);
    return new Promise<DeviceResult[]>((resolve, reject) => {
      let gw = this.#gateways.get(address);
      if (!gw) {
        gw = { queue: [], inflight: 0, scheduled: false, expiry: undefined, expiryAt: Infinity };
        this.#gateways.set(address, gw);
      }
      const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
      gw.queue.push({ req, deadline, resolve, reject });
      if (!gw.scheduled) {
        gw.scheduled = true;
        const g = gw;
        setImmediate(() => {
          g.scheduled = false;
          this.#pump(address, g);
        });
      }
      if (deadline < gw.expiryAt) this.#armExpiry(address, gw, deadline);
    });
  }

  pushBatch(address: string, req: PushBatchRequest, opts?: PushOptions): Promise<DeviceResult[]> {
    return this.gateway.pushBatch(address, req, opts);
  }

  #pump(address: string, gw: Gateway): void {
    while (
      gw.queue.length > 0 &&
      gw.inflight < this.#maxInFlight &&
      (gw.inflight === 0 || gw.queue.length >= this.#laneMinBatch)
    ) {
      this.#send(address, gw, gw.queue.splice(0, this.#maxBatch));
    }
    if (gw.queue.length === 0) {
      this.#disarmExpiry(gw);
      if (gw.inflight === 0 && !gw.scheduled) this.#gateways.delete(address);
    }
  }

  #send(address: string, gw: Gateway, batch: Waiting[]): void {
    let deadline = Number.POSITIVE_INFINITY;
    for (const w of batch) deadline = Math.min(deadline, w.deadline);
    const opts = Number.isFinite(deadline) ? { deadline } : {};
    gw.inflight += 1;
    const done = (): void => {
      gw.inflight -= 1;
      this.#pump(address, gw);
    };
    if (batch.length === 1) {
      const [only] = batch as [Waiting];
      this.gateway.pushMessage(address, only.req, opts).then(only.resolve, only.reject).finally(done);
      return;
    }
    const req: PushBatchRequest = {
      messages: batch.map((w) => w.req.message as NonNullable<PushMessageRequest['message']>),
      targets: batch.map((w, messageIndex) => ({ userId: w.req.userId, deviceIds: w.req.deviceIds, messageIndex })),
    };
    this.gateway
      .pushBatch(address, req, opts)
      .then(
        (results) => {
          const byDevice = new Map<string, DeviceResult>();
          for (const r of results) byDevice.set(resultKey(r.userId, r.deviceId, r.msgId), r);
          for (const w of batch) {
            const msgId = w.req.message?.msgId ?? '';
            w.resolve(
              w.req.deviceIds.map(
                (deviceId) => byDevice.get(resultKey(w.req.userId, deviceId, msgId)) ?? notDelivered(w, deviceId, PushFailure.NO_RESULT),
              ),
            );
          }
        },
        (err: unknown) => {
          for (const w of batch) w.reject(err);
        },
      )
      .finally(done);
  }

  #armExpiry(address: string, gw: Gateway, at: number): void {
    if (!Number.isFinite(at)) return;
    this.#disarmExpiry(gw);
    gw.expiryAt = at;
    gw.expiry = setTimeout(() => this.#expire(address, gw), Math.max(0, at - this.#clock()));
    gw.expiry.unref();
  }

  #disarmExpiry(gw: Gateway): void {
    if (gw.expiry) clearTimeout(gw.expiry);
    gw.expiry = undefined;
    gw.expiryAt = Infinity;
  }

  /** Answers the pushes whose deadline passed while they waited; re-arms for the rest. */
  #expire(address: string, gw: Gateway): void {
    gw.expiry = undefined;
    gw.expiryAt = Infinity;
    const now = this.#clock();
    const waiting: Waiting[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const w of gw.queue) {
      if (w.deadline <= now) {
        w.resolve(w.req.deviceIds.map((deviceId) => notDelivered(w, deviceId, PushFailure.GATEWAY_TIMEOUT)));
      } else {
        waiting.push(w);
        next = Math.min(next, w.deadline);
      }
    }
    gw.queue = waiting;
    if (waiting.length > 0) this.#armExpiry(address, gw, next);
    else if (gw.inflight === 0 && !gw.scheduled) this.#gateways.delete(address);
  }
}

function notDelivered(w: Waiting, deviceId: string, reason: string): DeviceResult {
  return { userId: w.req.userId, deviceId, msgId: w.req.message?.msgId ?? '', delivered: false, reason };
}

const resultKey = (userId: string, deviceId: string, msgId: string): string => `${userId}\u0000${deviceId}\u0000${msgId}`;
