/**
 * GatewayClient: how the routers push to devices through the gateway holding them
 * (gateway.v1.GatewayService). Per gateway address: one channel (channels.ts) and one
 * circuit breaker (breaker.ts). Per call: each attempt's deadline is RETRY_TIMEOUT and
 * never past the caller's own deadline; at most MAX_RETRY_ATTEMPTS attempts, with a
 * jittered backoff that is skipped when it would not leave time for another attempt.
 *
 * It never throws for a gateway's sake: an error, a timeout or an open circuit makes
 * every device of that call count as not delivered (with a reason), which is what lets
 * the router fall back to the offline path for exactly those devices.
 *
 * A retry after a timeout may reach a device twice (the first attempt may have landed
 * late); envelopes carry msg_id and sequence number, by which clients drop repeats.
 */
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type {
  DeviceResult,
  GatewayServiceClient,
  PushBatchRequest,
  PushBatchResponse,
  PushMessageRequest,
  PushMessageResponse,
} from '../gen/gateway/v1/gateway';
import type { Config } from '../config';
import type { Metrics } from '../observability/metrics';
import { injectGrpc } from '../observability/tracing';
import { sleep } from '../runtime/timeout';
import { backoffDelay, retryFits } from './backoff';
import { CircuitBreaker } from './breaker';
import { ChannelPool } from './channels';

/** Why a device did not get a push when the call itself failed. */
export const PushFailure = {
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  GATEWAY_UNAVAILABLE: 'GATEWAY_UNAVAILABLE',
  GATEWAY_TIMEOUT: 'GATEWAY_TIMEOUT',
  GATEWAY_ERROR: 'GATEWAY_ERROR',
  CANCELLED: 'CANCELLED',
  /** The gateway answered but said nothing about this device. */
  NO_RESULT: 'NO_RESULT',
} as const;

export interface PushOptions {
  /** Absolute deadline (ms since epoch) of the whole push, retries included. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

/** What the routers need of a push client (a port they can fake in unit tests). */
export interface GatewayPusher {
  pushMessage(address: string, req: PushMessageRequest, opts?: PushOptions): Promise<DeviceResult[]>;
  pushBatch(address: string, req: PushBatchRequest, opts?: PushOptions): Promise<DeviceResult[]>;
}

export interface GatewayClientOptions {
  readonly retryTimeoutMs: number;
  readonly maxAttempts: number;
  readonly retryBaseBackoffMs: number;
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
  readonly channelIdleMs: number;
}

export const gatewayClientOptions = (config: Config): GatewayClientOptions => ({
  retryTimeoutMs: config.server.retryTimeoutMs,
  maxAttempts: config.server.maxRetryAttempts,
  retryBaseBackoffMs: config.gateway.retryBaseBackoffMs,
  breakerThreshold: config.gateway.circuitBreakerThreshold,
  breakerCooldownMs: config.gateway.circuitBreakerCooldownMs,
  channelIdleMs: config.gateway.channelIdleMs,
});

/** Codes after which the same push may be tried again. */
const RETRYABLE = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
]);
/** Codes that say nothing about the gateway's health (our request or our cancel). */
const NOT_GATEWAY_FAULT = new Set<number>([GrpcStatus.CANCELLED, GrpcStatus.INVALID_ARGUMENT]);
/** Less than this left before the deadline: do not start another attempt. */
const MIN_ATTEMPT_MS = 5;

type Call<Res> = (
  client: GatewayServiceClient,
  md: Metadata,
  deadline: number,
  cb: (err: ServiceError | null, res: Res) => void,
) => { cancel(): void };

type Attempt<Res> = { ok: true; res: Res } | { ok: false; reason: string };

export class GatewayClient implements GatewayPusher {
  readonly #pool: ChannelPool;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly opts: GatewayClientOptions,
    private readonly metrics: Pick<Metrics, 'pushes'>,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    // A closed breaker of an idle gateway carries no information worth keeping.
    this.#pool = new ChannelPool(opts.channelIdleMs, clock, (address) => {
      if (this.#breakers.get(address)?.state(this.clock()) === 'closed') this.#breakers.delete(address);
    });
  }

  async pushMessage(address: string, req: PushMessageRequest, opts: PushOptions = {}): Promise<DeviceResult[]> {
    const msgId = req.message?.msgId ?? '';
    const wanted = req.deviceIds.map((deviceId) => ({ userId: req.userId, deviceId, msgId }));
    if (wanted.length === 0) return [];
    const outcome = await this.#withRetries<PushMessageResponse>(address, opts, (client, md, deadline, cb) =>
      client.pushMessage(req, md, { deadline }, cb),
    );
    return this.#settle(wanted, outcome);
  }

  async pushBatch(address: string, req: PushBatchRequest, opts: PushOptions = {}): Promise<DeviceResult[]> {
    const wanted = req.targets.flatMap((t) =>
      t.deviceIds.map((deviceId) => ({ userId: t.userId, deviceId, msgId: req.messages[t.messageIndex]?.msgId ?? '' })),
    );
    if (wanted.length === 0) return [];
    const outcome = await this.#withRetries<PushBatchResponse>(address, opts, (client, md, deadline, cb) =>
      client.pushBatch(req, md, { deadline }, cb),
    );
    return this.#settle(wanted, outcome);
  }

  /** Gateways whose circuit is not closed right now (for /stats). */
  stats(): { channels: number; openCircuits: string[] } {
    const now = this.clock();
    const open = [...this.#breakers].filter(([, b]) => b.state(now) !== 'closed').map(([a]) => a);
    return { channels: this.#pool.size, openCircuits: open };
  }

  close(): void {
    this.#pool.close();
  }

  /** One result per wanted device, in the order asked; counted in `pushes{outcome}`. */
  #settle(
    wanted: { userId: string; deviceId: string; msgId: string }[],
    outcome: Attempt<{ results: DeviceResult[] }>,
  ): DeviceResult[] {
    if (!outcome.ok) {
      this.metrics.pushes.inc({ outcome: 'error' }, wanted.length);
      return wanted.map((w) => ({ ...w, delivered: false, reason: outcome.reason }));
    }
    const got = new Map<string, DeviceResult>();
    for (const r of outcome.res.results) got.set(`${r.userId}\u0000${r.deviceId}\u0000${r.msgId}`, r);
    let delivered = 0;
    const out = wanted.map((w) => {
      const r = got.get(`${w.userId}\u0000${w.deviceId}\u0000${w.msgId}`);
      if (r?.delivered) delivered += 1;
      return r ? { ...w, delivered: r.delivered, reason: r.delivered ? '' : r.reason } : { ...w, delivered: false, reason: PushFailure.NO_RESULT };
    });
    if (delivered > 0) this.metrics.pushes.inc({ outcome: 'delivered' }, delivered);
    if (out.length > delivered) this.metrics.pushes.inc({ outcome: 'undelivered' }, out.length - delivered);
    return out;
  }

  #breaker(address: string): CircuitBreaker {
    let b = this.#breakers.get(address);
    if (!b) {
      b = new CircuitBreaker({ threshold: this.opts.breakerThreshold, cooldownMs: this.opts.breakerCooldownMs });
      this.#breakers.set(address, b);
    }
    return b;
  }

  async #withRetries<Res>(address: string, opts: PushOptions, call: Call<Res>): Promise<Attempt<Res>> {
    const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
    const breaker = this.#breaker(address);
    let last: Attempt<Res> = { ok: false, reason: PushFailure.GATEWAY_TIMEOUT };
    for (let attempt = 1; attempt <= this.opts.maxAttempts; attempt++) {
      const now = this.clock();
      if (opts.signal?.aborted) return { ok: false, reason: PushFailure.CANCELLED };
      if (deadline - now < MIN_ATTEMPT_MS) return last;
      if (!breaker.tryAcquire(now)) return { ok: false, reason: PushFailure.CIRCUIT_OPEN };
      const timeoutMs = Math.min(this.opts.retryTimeoutMs, deadline - now);
      const result = await this.#once(address, call, timeoutMs, opts.signal);
      if (result.ok) {
        breaker.onSuccess();
        return result;
      }
      const code = result.error.code;
      if (code === GrpcStatus.CANCELLED && opts.signal?.aborted) {
        breaker.onAbandon();
        return { ok: false, reason: PushFailure.CANCELLED };
      }
      if (NOT_GATEWAY_FAULT.has(code)) breaker.onAbandon();
      else breaker.onFailure(this.clock());
      last = { ok: false, reason: reasonOf(code) };
      if (!RETRYABLE.has(code) || attempt === this.opts.maxAttempts) break;
      const delay = backoffDelay(attempt, this.opts.retryBaseBackoffMs, this.random);
      if (!retryFits(this.clock(), delay, deadline, MIN_ATTEMPT_MS)) break;
      await sleep(delay, opts.signal);
    }
    return last;
  }

  /** One attempt on the address's channel, cancelled if the caller aborts. */
  #once<Res>(
    address: string,
    call: Call<Res>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true; res: Res } | { ok: false; error: ServiceError }> {
    return this.#pool.use(
      address,
      (client) =>
        new Promise((resolve) => {
          const md = injectGrpc(new Metadata());
          // grpc-js deadlines are wall-clock; the budget came from the injected clock.
          const pending = call(client, md, Date.now() + timeoutMs, (error, res) => {
            signal?.removeEventListener('abort', cancel);
            resolve(error ? { ok: false, error } : { ok: true, res });
          });
          function cancel() {
            pending.cancel();
          }
          signal?.addEventListener('abort', cancel, { once: true });
        }),
    );
  }
}

function reasonOf(code: number): string {
  if (code === GrpcStatus.UNAVAILABLE) return PushFailure.GATEWAY_UNAVAILABLE;
  if (code === GrpcStatus.DEADLINE_EXCEEDED) return PushFailure.GATEWAY_TIMEOUT;
  if (code === GrpcStatus.CANCELLED) return PushFailure.CANCELLED;
  return PushFailure.GATEWAY_ERROR;
}
