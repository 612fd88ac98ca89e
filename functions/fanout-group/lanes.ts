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
 *
 * When a call slot frees, the batches queued behind it go out together as one call
 * (coalesce.ts), in queue order, up to `maxTargets` devices and MAX_MERGED_CONTENT
 * characters of content: an idle lane sends a batch at once, a busy one sends fewer,
 * larger calls. The merged call's deadline is the earliest of its batches'.
 */
import type { GatewayPusher } from '../../shared/gateway';
import type { DeviceResult, PushBatchRequest } from '../../shared/gen/gateway/v1/gateway';
import { contentSize, deviceCount, mergeRequests, splitResults } from './coalesce';

/** Why a device of a shed batch got nothing. */
export const SHED_REASON = 'GATEWAY_BACKLOG';

/** Content characters beyond which queued batches are not merged into one call (a single batch always goes). */
export const MAX_MERGED_CONTENT = 1 << 20;

export interface LaneSettings {
  readonly concurrency: number;
  readonly queueLimit: number;
  readonly timeoutMs: number;
  /** Devices beyond which queued batches are not merged into one call (1: never merge). */
  readonly maxTargets: number;
}

export interface LaneOutcome {
  /** One per device of the request, in the order of its targets and their device ids. */
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
  readonly #stats = { submitted: 0, shed: 0, calls: 0, merged: 0 };

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
      const jobs = this.#take(lane.queue);
      if (jobs.length === 0) continue;
      lane.running += 1;
      this.#stats.calls += 1;
      this.#stats.merged += jobs.length - 1;
      const requests = jobs.map((j) => j.request);
      const deadline = Math.min(...jobs.map((j) => j.deadline));
      void this.pusher
        .pushBatch(address, mergeRequests(requests), { deadline })
        .then(
          (results) => splitResults(requests, results).forEach((r, i) => jobs[i]?.resolve({ results: r, shed: false })),
          // The client never throws for a gateway's sake; anything else is a bug, reported as undelivered.
          (err: unknown) => {
            for (const job of jobs) job.resolve({ results: undelivered(job.request, `GATEWAY_ERROR: ${String(err)}`), shed: false });
          },
        )
        .finally(() => {
          lane.running -= 1;
          this.#pump(address, lane);
        });
    }
    if (lane.running === 0 && lane.queue.length === 0 && this.#lanes.get(address) === lane) this.#lanes.delete(address);
  }

  /** The next call's batches: the queue's head and what fits behind it; batches past their deadline are shed. */
  #take(queue: Job[]): Job[] {
    const now = this.clock();
    const jobs: Job[] = [];
    let devices = 0;
    let content = 0;
    while (queue.length > 0) {
      const job = queue[0] as Job;
      if (now >= job.deadline) {
        queue.shift();
        job.resolve(this.#shed(job.request));
        continue;
      }
      const d = deviceCount(job.request);
      const c = contentSize(job.request);
      if (jobs.length > 0 && (devices + d > this.settings.maxTargets || content + c > MAX_MERGED_CONTENT)) break;
      queue.shift();
      jobs.push(job);
      devices += d;
      content += c;
    }
    return jobs;
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
