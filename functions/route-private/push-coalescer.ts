/**
 * Coalesces the fast path's pushes: the PushMessage calls the router starts in one
 * event-loop turn towards one gateway leave as one PushBatch (each message once, one
 * target per message), so a busy router makes one gateway call per gateway and turn
 * instead of one per message. A lone push still goes out as PushMessage.
 *
 * The batch runs on the wrapped client (channel pool, breaker, retries) with the
 * earliest deadline of its members, so no caller waits past its own. Each caller gets
 * the results of its own devices; a device the gateway said nothing about counts as not
 * delivered (NO_RESULT), exactly as for a single push.
 */
import { PushFailure, type GatewayPusher, type PushOptions } from '../../shared/gateway';
import type { DeviceResult, PushBatchRequest, PushMessageRequest } from '../../shared/gen/gateway/v1/gateway';

interface Waiting {
  readonly req: PushMessageRequest;
  readonly deadline: number;
  readonly resolve: (results: DeviceResult[]) => void;
  readonly reject: (err: unknown) => void;
}

export class PushCoalescer implements GatewayPusher {
  #queues = new Map<string, Waiting[]>();

  constructor(
    private readonly gateway: GatewayPusher,
    private readonly maxBatch = 256,
  ) {}

  pushMessage(address: string, req: PushMessageRequest, opts: PushOptions = {}): Promise<DeviceResult[]> {
    // A caller that may cancel keeps its own call: one member must not cancel a batch.
    if (opts.signal || !req.message || req.deviceIds.length === 0) return this.gateway.pushMessage(address, req, opts);
    return new Promise<DeviceResult[]>((resolve, reject) => {
      if (this.#queues.size === 0) setImmediate(() => this.#flush());
      let queue = this.#queues.get(address);
      if (!queue) {
        queue = [];
        this.#queues.set(address, queue);
      }
      queue.push({ req, deadline: opts.deadline ?? Number.POSITIVE_INFINITY, resolve, reject });
    });
  }

  pushBatch(address: string, req: PushBatchRequest, opts?: PushOptions): Promise<DeviceResult[]> {
    return this.gateway.pushBatch(address, req, opts);
  }

  #flush(): void {
    const queues = this.#queues;
    this.#queues = new Map();
    for (const [address, queue] of queues) {
      for (let i = 0; i < queue.length; i += this.maxBatch) this.#send(address, queue.slice(i, i + this.maxBatch));
    }
  }

  #send(address: string, batch: Waiting[]): void {
    let deadline = Number.POSITIVE_INFINITY;
    for (const w of batch) deadline = Math.min(deadline, w.deadline);
    const opts = Number.isFinite(deadline) ? { deadline } : {};
    if (batch.length === 1) {
      const [only] = batch as [Waiting];
      this.gateway.pushMessage(address, only.req, opts).then(only.resolve, only.reject);
      return;
    }
    const req: PushBatchRequest = {
      messages: batch.map((w) => w.req.message as NonNullable<PushMessageRequest['message']>),
      targets: batch.map((w, messageIndex) => ({ userId: w.req.userId, deviceIds: w.req.deviceIds, messageIndex })),
    };
    this.gateway.pushBatch(address, req, opts).then(
      (results) => {
        const byDevice = new Map<string, DeviceResult>();
        for (const r of results) byDevice.set(resultKey(r.userId, r.deviceId, r.msgId), r);
        for (const w of batch) {
          const msgId = w.req.message?.msgId ?? '';
          w.resolve(
            w.req.deviceIds.map(
              (deviceId) =>
                byDevice.get(resultKey(w.req.userId, deviceId, msgId)) ?? {
                  userId: w.req.userId,
                  deviceId,
                  msgId,
                  delivered: false,
                  reason: PushFailure.NO_RESULT,
                },
            ),
          );
        }
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  }
}

const resultKey = (userId: string, deviceId: string, msgId: string): string => `${userId}\u0000${deviceId}\u0000${msgId}`;
