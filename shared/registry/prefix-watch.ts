/**
 * One etcd watch over a key prefix that resumes where it stopped and says when it
 * cannot.
 *
 * Written on the raw Watch RPC rather than etcd3's Watcher because the cache needs
 * three things that one hides: (1) the exact resume point — like etcd's Go client,
 * the revision after the last event received (etcd3 moves it to the server's current
 * revision when a stream is re-created, which can skip events if the stream drops again
 * before they arrive); (2) the compaction signal (`compact_revision`), which must reset
 * the cache, not just log an error; (3) liveness — a silently dead connection would
 * leave the cache "healthy" forever, so every `checkIntervalMs` a progress request is
 * sent and the stream is declared broken when nothing at all was heard for two
 * intervals.
 */
import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from 'etcd3';
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../observability/logger';
import { prefixRangeEnd } from './keys';

export interface PrefixWatchHandlers {
  /** Events in revision order; called synchronously as responses arrive. */
  onEvents(events: readonly IEvent[]): void;
  /** Watching: every event after `floor` will be delivered (floor only moves after a reset). */
  onLive(floor: number): void;
  /** Stream broken; it will resume from where it stopped. */
  onStale(reason: string): void;
  /** Cannot resume (history compacted, watch cancelled): state built from it is void. */
  onReset(reason: string): void;
}

export interface PrefixWatchOptions {
  readonly client: Pick<Etcd3, 'watchClient'>;
  readonly prefix: string;
  readonly checkIntervalMs: number;
  readonly handlers: PrefixWatchHandlers;
  readonly logger?: Logger;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;

export class PrefixWatch {
  readonly #opts: PrefixWatchOptions;
  readonly #backoff: { readonly initialMs: number; readonly maxMs: number };
  #stream: WatchStream | undefined;
  #live = false;
  #closed = false;
  /** The revision to resume from; 0 = start fresh at the current revision. */
  #nextRevision = 0;
  #lastHeard = 0;
  #retryMs: number;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #resets = 0;
  #reconnects = 0;

  constructor(opts: PrefixWatchOptions) {
    this.#opts = opts;
    this.#backoff = opts.backoff ?? { initialMs: 100, maxMs: 2000 };
    this.#retryMs = this.#backoff.initialMs;
  }

  get live(): boolean {
    return this.#live;
  }

  stats(): Record<string, unknown> {
    return { live: this.#live, nextRevision: this.#nextRevision, resets: this.#resets, reconnects: this.#reconnects };
  }

  start(): void {
    if (this.#closed || this.#checkTimer) return;
    this.#checkTimer = setInterval(() => this.#check(), this.#opts.checkIntervalMs);
    this.#checkTimer.unref();
    void this.#connect();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#checkTimer);
    clearTimeout(this.#reconnectTimer);
    this.#drop();
    this.#live = false;
  }

  async #connect(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#closed) return;
    let stream: WatchStream;
    try {
      stream = await this.#opts.client.watchClient.watch();
    } catch (err) {
      this.#broken(`watch stream failed to open: ${errorText(err)}`);
      return;
    }
    if (this.#closed) {
      this.#stream = stream;
      this.#drop();
      return;
    }
    this.#stream = stream;
    this.#lastHeard = Date.now();
    stream.on('data', (res) => {
      if (stream === this.#stream) this.#onResponse(res);
    });
    stream.on('error', (err) => {
      if (stream === this.#stream) this.#broken(`watch stream error: ${errorText(err)}`);
    });
    stream.on('end', () => {
      if (stream === this.#stream) this.#broken('watch stream ended');
    });
    const prefix = Buffer.from(this.#opts.prefix);
    stream.write({
      create_request: {
        key: prefix,
        range_end: prefixRangeEnd(prefix),
        ...(this.#nextRevision > 0 ? { start_revision: this.#nextRevision } : {}),
      },
    });
  }

  #onResponse(res: IWatchResponse): void {
    this.#lastHeard = Date.now();
    if (res.canceled || (res.compact_revision !== undefined && res.compact_revision !== '0')) {
      const reason =
        res.compact_revision && res.compact_revision !== '0'
          ? `history compacted at revision ${res.compact_revision}`
          : `watch cancelled: ${res.cancel_reason || 'no reason given'}`;
      this.#reset(reason);
      return;
    }
    if (res.created) {
      const fresh = this.#nextRevision === 0;
      if (fresh) this.#nextRevision = Number(res.header.revision) + 1;
      this.#live = true;
      this.#retryMs = this.#backoff.initialMs;
      // A fresh watch delivers everything after the revision it was created at; a
      // resumed one continues the original history, so the floor does not move.
      this.#opts.handlers.onLive(this.#nextRevision - 1);
      return;
    }
    if (res.events.length > 0) {
      const last = res.events[res.events.length - 1]!;
      this.#nextRevision = Number(last.kv.mod_revision) + 1;
      this.#opts.handlers.onEvents(res.events);
    }
    // Otherwise a progress response: proof of life only. In etcd 3.4 it carries the
    // server's revision even while this watcher is still catching up, so it must not
    // move the resume point.
  }

  #check(): void {
    if (this.#closed || !this.#stream) return;
    if (Date.now() - this.#lastHeard > 2 * this.#opts.checkIntervalMs) {
      this.#broken('watch stream silent (no progress answer)');
      return;
    }
    if (this.#live) this.#stream.write({ progress_request: {} });
  }

  #broken(reason: string): void {
    if (this.#closed) return;
    this.#drop();
    if (this.#live) {
      this.#live = false;
      this.#opts.handlers.onStale(reason);
    }
    this.#opts.logger?.warn({ reason, retryInMs: this.#retryMs }, 'registry watch broken; resuming');
    this.#scheduleReconnect();
  }

  #reset(reason: string): void {
    this.#drop();
    this.#live = false;
    this.#nextRevision = 0;
    this.#resets += 1;
    this.#opts.logger?.warn({ reason }, 'registry watch cannot resume; cache reset');
    this.#opts.handlers.onReset(reason);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer) return;
    const wait = Math.round(this.#retryMs * (0.5 + Math.random() / 2));
    this.#retryMs = Math.min(this.#retryMs * 2, this.#backoff.maxMs);
    this.#reconnects += 1;
    this.#reconnectTimer = setTimeout(() => void this.#connect(), wait);
    this.#reconnectTimer.unref();
  }

  #drop(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    if (!stream) return;
    stream.on('error', () => undefined);
    try {
      // Half-close first: etcd3 treats an error on a still-writable stream as a failed
      // host and re-dials every channel of the client.
      stream.end();
      stream.cancel();
    } catch {
      // already gone
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
