/**
 * One lane per gateway: fanout's pushes to a gateway go through its lane, so a slow or
 * dead gateway holds up nothing but its own lane.
 *
 * A lane runs at most FANOUT_GATEWAY_CONCURRENCY PushBatch calls at once and queues up
 * to FANOUT_GATEWAY_QUEUE more, first in first out. A batch is given up ("shed") when
 * the queue is full or when it is still queued at its deadline (FANOUT_PUSH_TIMEOUT
 * after it was submitted); a call in flight is bounded by that same deadline (the
 * gateway client's retries included). Shed and failed devices are reported undelivered:
 * their members catch up from the group log. submit() never rejects.
 */
import type { GatewayPusher } from '../../shared/gateway';
import type { DeviceResult, PushBatchRequest } from '../../shared/gen/gateway/v1/gateway';

/** Why a device of a shed batch got nothing. */
export const SHED_REASON = 'GATEWAY_BACKLOG';

export interface LaneSettings {
  readonly concurrency: number;
  readonly queueLimit: number;
  readonly timeoutMs: number;
}

export interface LaneOutcome {
  readonly results: DeviceResult[];
  /** True when the batch was never sent (queue full or deadline passed while queued). */
  readonly shed: boolean;
}

interface Job {
  readonly request: PushBatchRequest;
  readonly deadline: number;
  readonly resolve: (outcome: LaneOutcome) => void;
}

interface Lane {
  running: number;
  readonly queue: Job[];
}

export class GatewayLanes {
  readonly #lanes = new Map<string, Lane>();
  readonly #stats = { submitted: 0, shed: 0, calls: 0 };

  constructor(
    private readonly pusher: Pick<GatewayPusher, 'pushBatch'>,
    private readonly settings: LaneSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  submit(address: string, request: PushBatchRequest): Promise<LaneOutcome> {
    this.#stats.submitted += 1;
    let lane = this.#lanes.get(address);
    if (!lane) {
      lane = { running: 0, queue: [] };
      this.#lanes.set(address, lane);
    }
    if (lane.running >= this.settings.concurrency && lane.queue.length >= this.settings.queueLimit) {
      return Promise.resolve(this.#shed(request));
    }
    const deadline = this.clock() + this.settings.timeoutMs;
    return new Promise<LaneOutcome>((resolve) => {
      lane.queue.push({ request, deadline, resolve });
      this.#pump(address, lane);
    });
  }

  stats(): Record<string, unknown> {
    let queued = 0;
    let running = 0;
    for (const lane of this.#lanes.values()) {
      queued += lane.queue.length;
      running += lane.running;
    }
    return { lanes: this.#lanes.size, queued, running, ...this.#stats };
  }

  #pump(address: string, lane: Lane): void {
    while (lane.running < this.settings.concurrency && lane.queue.length > 0) {
      const job = lane.queue.shift() as Job;
      if (this.clock() >= job.deadline) {
        job.resolve(this.#shed(job.request));
        continue;
      }
      lane.running += 1;
      this.#stats.calls += 1;
      void this.pusher
        .pushBatch(address, job.request, { deadline: job.deadline })
        .then(
          (results) => job.resolve({ results, shed: false }),
          // The client never throws for a gateway's sake; anything else is a bug, reported as undelivered.
          (err: unknown) => job.resolve({ results: undelivered(job.request, `GATEWAY_ERROR: ${String(err)}`), shed: false }),
        )
        .finally(() => {
          lane.running -= 1;
          this.#pump(address, lane);
        });
    }
    if (lane.running === 0 && lane.queue.length === 0 && this.#lanes.get(address) === lane) this.#lanes.delete(address);
  }

  #shed(request: PushBatchRequest): LaneOutcome {
    this.#stats.shed += 1;
    return { results: undelivered(request, SHED_REASON), shed: true };
  }
}

function undelivered(request: PushBatchRequest, reason: string): DeviceResult[] {
  return request.targets.flatMap((t) =>
    t.deviceIds.map((deviceId) => ({
      userId: t.userId,
      deviceId,
      msgId: request.messages[t.messageIndex]?.msgId ?? '',
      delivered: false,
      reason,
    })),
  );
}
