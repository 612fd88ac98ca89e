/**
 * One gRPC channel per gateway address, created on first use and closed after
 * `idleMs` without calls. A channel multiplexes every concurrent push to its gateway
 * over one HTTP/2 connection, so a router holds as many connections as gateways it
 * currently talks to, not one per call or per device.
 */
import { credentials, type ChannelOptions } from '@grpc/grpc-js';
import { GatewayServiceClient } from '../gen/gateway/v1/gateway';

/**
 * grpc-js retries nothing itself (we retry with the caller's deadline in view); a
 * dead gateway is noticed by keepalive even without a TCP reset; reconnect backoff is
 * capped low so a restarted gateway is reachable again within seconds rather than the
 * default two minutes.
 */
export const CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.enable_retries': 0,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // Nothing reads channelz; its per-call bookkeeping costs every push.
  'grpc.enable_channelz': 0,
};

interface Channel {
  readonly client: GatewayServiceClient;
  lastUsed: number;
  inflight: number;
}

export class ChannelPool {
  readonly #channels = new Map<string, Channel>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(
    private readonly idleMs: number,
    private readonly clock: () => number = Date.now,
    private readonly onClose: (address: string) => void = () => undefined,
  ) {
    this.#sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(idleMs, 60_000) / 2));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#channels.size;
  }

  /** Runs `work` with the address's channel, counting it in flight so it is never swept mid-call. */
  async use<T>(address: string, work: (client: GatewayServiceClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('gateway channel pool is closed');
    let ch = this.#channels.get(address);
    if (!ch) {
      ch = { client: new GatewayServiceClient(address, credentials.createInsecure(), CHANNEL_OPTIONS), lastUsed: 0, inflight: 0 };
      this.#channels.set(address, ch);
    }
    ch.inflight += 1;
    ch.lastUsed = this.clock();
    try {
      return await work(ch.client);
    } finally {
      ch.inflight -= 1;
      ch.lastUsed = this.clock();
    }
  }

  /** Closes channels idle for `idleMs` or more (also run by the pool's own timer). */
  sweep(now = this.clock()): void {
    for (const [address, ch] of this.#channels) {
      if (ch.inflight === 0 && now - ch.lastUsed >= this.idleMs) {
        this.#channels.delete(address);
        ch.client.close();
        this.onClose(address);
      }
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const ch of this.#channels.values()) ch.client.close();
    this.#channels.clear();
  }
}
