/**
 * Delivery of a batch of group messages to the members' online devices.
 *
 * Members are read in pages by primary key (a group below LARGE_GROUP_THRESHOLD in one
 * read, a larger one FANOUT_BATCH_SIZE at a time) and cut into rounds of
 * FANOUT_BATCH_SIZE member slots; small groups' messages share rounds. Per round: one
 * registry lookupMany for its users, the devices grouped by gateway, and one PushBatch
 * per gateway carrying each message once and the targets referring to it. Up to
 * FANOUT_PAGE_CONCURRENCY rounds are looked up at once, but rounds are handed to the
 * gateway lanes in order, so a member sees a group's messages in sequence order.
 *
 * Nothing waits for a particular gateway: each has its own lane (lanes.ts). Only the
 * end of the batch waits for every lane's answer, so the batch's offsets are committed
 * after every push was attempted. Memory is bounded by the rounds in flight and the
 * lanes' queues, never by the size of a group.
 */
import { ImError } from '../../shared/errors';
import type { PushBatchRequest, PushTarget } from '../../shared/gen/gateway/v1/gateway';
import type { GroupStore } from '../../shared/groups';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';
import type { DeviceEntry } from '../../shared/registry';
import type { GatewayLanes, LaneOutcome } from './lanes';
import type { PreparedMessage } from './message';
import type { PushTaskBuffer } from './push-tasks';

export interface FanoutSettings {
  /** FANOUT_BATCH_SIZE: member slots per round (and per page of a large group). */
  readonly pageSize: number;
  readonly largeGroupThreshold: number;
  readonly pageConcurrency: number;
}

export interface DeviceLookup {
  lookupMany(userIds: readonly string[]): Promise<Map<string, DeviceEntry[]>>;
}

export interface FanoutPorts {
  readonly members: Pick<GroupStore, 'pageMembers'>;
  readonly devices: DeviceLookup;
  readonly lanes: Pick<GatewayLanes, 'submit'>;
  readonly metrics?: Pick<Metrics, 'fanoutTargets'>;
  readonly logger: Logger;
  readonly settings: FanoutSettings;
}

export interface FanoutOptions {
  /** Give up (throw) when aborted: the batch is then not committed and comes again. */
  readonly signal?: AbortSignal;
  /** When the registry cannot be read: fail the batch (to be retried) or leave the round's members to the log. */
  readonly onRegistryError: 'throw' | 'skip';
}

export interface FanoutReport {
  members: number;
  rounds: number;
  pushCalls: number;
  delivered: number;
  undelivered: number;
  shed: number;
  offline: number;
  skipped: number;
}

interface Round {
  readonly users: string[];
  /** Index into the batch's messages, per slot. */
  readonly msgs: number[];
}

/** Fans `messages` out; resolves once every push was attempted and every task handed over. */
export async function fanOut(
  ports: FanoutPorts,
  messages: readonly PreparedMessage[],
  tasks: PushTaskBuffer,
  opts: FanoutOptions,
): Promise<FanoutReport> {
  return new FanoutRun(ports, messages, tasks, opts).run();
}

class FanoutRun {
  readonly report: FanoutReport = {
    members: 0,
    rounds: 0,
    pushCalls: 0,
    delivered: 0,
    undelivered: 0,
    shed: 0,
    offline: 0,
    skipped: 0,
  };
  #users: string[] = [];
  #msgs: number[] = [];
  /** The chain of round submissions, in round order. */
  #submitted: Promise<void> = Promise.resolve();
  readonly #answers: Promise<void>[] = [];
  #inFlight = 0;
  readonly #slotWaiters: (() => void)[] = [];
  #failure: unknown;
  /** Users whose devices of one message sit on several gateways: settled once every lane answered. */
  readonly #split = new Map<string, { remaining: number; delivered: boolean }>();

  constructor(
    private readonly ports: FanoutPorts,
    private readonly messages: readonly PreparedMessage[],
    private readonly tasks: PushTaskBuffer,
    private readonly opts: FanoutOptions,
  ) {}

  async run(): Promise<FanoutReport> {
    try {
      return await this.#run();
    } catch (err) {
      // Let what was started finish, so a retry of the batch never overlaps with it.
      await Promise.allSettled([this.#submitted, ...this.#answers]);
      throw err;
    }
  }

  async #run(): Promise<FanoutReport> {
    const { pageSize } = this.ports.settings;
    for (let i = 0; i < this.messages.length; i++) {
      const m = this.messages[i] as PreparedMessage;
      for await (const page of this.#pages(m)) {
        this.#check();
        this.report.members += page.length;
        for (const u of page) {
          this.#users.push(u);
          this.#msgs.push(i);
        }
        while (this.#users.length >= pageSize) await this.#dispatch(this.#cut(pageSize));
      }
    }
    if (this.#users.length > 0) await this.#dispatch(this.#cut(this.#users.length));
    await this.#submitted;
    await Promise.all(this.#answers);
    return this.report;
  }

  /** Member pages of a message's group: one read below the threshold, keyset pages above. */
  async *#pages(m: PreparedMessage): AsyncGenerator<string[]> {
    const { pageSize, largeGroupThreshold } = this.ports.settings;
    const small = m.event.memberCount > 0 && m.event.memberCount < largeGroupThreshold;
    let size = small ? Math.max(pageSize, largeGroupThreshold) : pageSize;
    let after: string | undefined;
    for (;;) {
      const page = await this.ports.members.pageMembers(m.event.groupId, after, size);
      if (page.length > 0) yield page;
      if (page.length < size) return;
      after = page[page.length - 1];
      size = pageSize;
    }
  }

  #cut(n: number): Round {
    const round = { users: this.#users.slice(0, n), msgs: this.#msgs.slice(0, n) };
    this.#users = this.#users.slice(n);
    this.#msgs = this.#msgs.slice(n);
    return round;
  }

  #check(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.opts.signal?.aborted) throw new ImError('SERVICE_UNAVAILABLE', 'fanout stopped: the worker is stopping');
  }

  /** Starts the round's lookup now (up to pageConcurrency at once) and queues its submission. */
  async #dispatch(round: Round): Promise<void> {
    await this.#acquire();
    this.#check();
    this.report.rounds += 1;
    const lookup = this.#lookup(round);
    // Awaited in turn below; until then a failure must not count as unhandled.
    lookup.catch(() => undefined);
    const previous = this.#submitted;
    this.#submitted = (async () => {
      try {
        await previous;
        const devices = await lookup;
        if (devices) this.#submit(round, devices);
      } catch (err) {
        this.#failure ??= err;
        throw err;
      } finally {
        this.#release();
      }
    })();
    // Observed at the end of run() (and through #failure before that).
    this.#submitted.catch(() => undefined);
  }

  async #lookup(round: Round): Promise<Map<string, DeviceEntry[]> | undefined> {
    try {
      return await this.ports.devices.lookupMany([...new Set(round.users)]);
    } catch (err) {
      if (this.opts.onRegistryError === 'throw') throw err;
      // Out of retries: these members catch up from the log, the rest of the group goes on.
      this.report.skipped += round.users.length;
      this.ports.logger.warn({ err: (err as Error).message, members: round.users.length }, 'registry lookup failed; round skipped');
      return undefined;
    }
  }

  #submit(round: Round, devices: Map<string, DeviceEntry[]>): void {
    const requests = new Map<string, { request: PushBatchRequest; index: Map<number, number> }>();
    for (let k = 0; k < round.users.length; k++) {
      const userId = round.users[k] as string;
      const mi = round.msgs[k] as number;
      const m = this.messages[mi] as PreparedMessage;
      let devs = devices.get(userId) ?? [];
      if (userId === m.event.senderId) {
        const skip = m.event.senderDeviceId;
        devs = skip ? devs.filter((d) => d.deviceId !== skip) : devs;
        if (devs.length === 0) continue;
      }
      if (devs.length === 0) {
        this.report.offline += 1;
        this.ports.metrics?.fanoutTargets.inc({ outcome: 'offline' });
        this.tasks.add(userId, m.event);
        continue;
      }
      const byGateway = new Map<string, string[]>();
      for (const d of devs) byGateway.set(d.gatewayAddress, [...(byGateway.get(d.gatewayAddress) ?? []), d.deviceId]);
      if (byGateway.size > 1) this.#split.set(splitKey(m.envelope.msgId, userId), { remaining: byGateway.size, delivered: false });
      for (const [address, deviceIds] of byGateway) {
        let r = requests.get(address);
        if (!r) {
          r = { request: { messages: [], targets: [] }, index: new Map() };
          requests.set(address, r);
        }
        let messageIndex = r.index.get(mi);
        if (messageIndex === undefined) {
          messageIndex = r.request.messages.push(m.envelope) - 1;
          r.index.set(mi, messageIndex);
        }
        const target: PushTarget = { userId, deviceIds, messageIndex };
        r.request.targets.push(target);
      }
    }
    for (const [address, { request }] of requests) {
      this.report.pushCalls += 1;
      this.#answers.push(this.ports.lanes.submit(address, request).then((outcome) => this.#settle(request, outcome)));
    }
  }

  /** Counts a lane's answer; members none of whose devices took a message get a push task. */
  #settle(request: PushBatchRequest, outcome: LaneOutcome): void {
    const byMember = new Map<string, boolean>();
    for (const r of outcome.results) {
      if (r.delivered) this.report.delivered += 1;
      else if (outcome.shed) this.report.shed += 1;
      else this.report.undelivered += 1;
      const key = splitKey(r.msgId, r.userId);
      byMember.set(key, (byMember.get(key) ?? false) || r.delivered);
    }
    const delivered = outcome.results.filter((r) => r.delivered).length;
    const failed = outcome.results.length - delivered;
    if (delivered > 0) this.ports.metrics?.fanoutTargets.inc({ outcome: 'delivered' }, delivered);
    if (failed > 0) this.ports.metrics?.fanoutTargets.inc({ outcome: outcome.shed ? 'shed' : 'undelivered' }, failed);
    const byMsgId = new Map(request.messages.map((e) => [e.msgId, e] as const));
    for (const [key, got] of byMember) {
      const split = this.#split.get(key);
      let reached = got;
      if (split) {
        split.remaining -= 1;
        split.delivered ||= got;
        if (split.remaining > 0) continue;
        this.#split.delete(key);
        reached = split.delivered;
      }
      if (reached) continue;
      const [msgId, userId] = key.split('\n') as [string, string];
      const envelope = byMsgId.get(msgId);
      if (envelope) this.tasks.add(userId, { msgId, groupId: envelope.conversationId, senderId: envelope.senderId });
    }
  }

  #acquire(): Promise<void> {
    if (this.#inFlight < this.ports.settings.pageConcurrency) {
      this.#inFlight += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#slotWaiters.push(() => resolve()));
  }

  #release(): void {
    const next = this.#slotWaiters.shift();
    if (next) next();
    else this.#inFlight -= 1;
  }
}

const splitKey = (msgId: string, userId: string): string => `${msgId}\n${userId}`;
