/**
 * Delivery of a batch of group messages to the members' online devices.
 *
 * Members are read in pages by primary key (a group below LARGE_GROUP_THRESHOLD in one
 * read, a larger one FANOUT_BATCH_SIZE at a time, the next page asked for as soon as one
 * arrives) and cut into rounds of FANOUT_BATCH_SIZE member slots; small groups' messages
 * share rounds. Per round: one registry lookupMany for its users, the devices grouped by
 * gateway, and one PushBatch per gateway carrying each message once and the targets
 * referring to it. Up to FANOUT_PAGE_CONCURRENCY rounds are looked up at once, but
 * rounds are handed to the gateway lanes in order, so a member sees a group's messages
 * in sequence order.
 *
 * Nothing waits for a particular gateway: each has its own lane (lanes.ts, which merges
 * what queues behind a busy call). Offline members' push tasks wait until the pushes
 * are out (push-tasks.ts). Only the end of the batch waits for every lane's answer, so
 * the batch's offsets are committed after every push was attempted. Memory is bounded
 * by the rounds in flight, the lanes' queues and the held tasks, never by the size of a
 * group.
 */
import { ImError } from '../../shared/errors';
import type { PushBatchRequest, PushEnvelope } from '../../shared/gen/gateway/v1/gateway';
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

interface GatewayRequest {
  readonly request: PushBatchRequest;
  /** Message index in the batch -> its index in this request. */
  readonly index: Map<number, number>;
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

  /**
   * Member pages of a message's group: one read below the threshold, keyset pages above.
   * The next page is requested as soon as a page arrives, so the database's answer time
   * overlaps the page's rounds instead of adding up page after page.
   */
  async *#pages(m: PreparedMessage): AsyncGenerator<string[]> {
    const { pageSize, largeGroupThreshold } = this.ports.settings;
    const small = m.event.memberCount > 0 && m.event.memberCount < largeGroupThreshold;
    let size = small ? Math.max(pageSize, largeGroupThreshold) : pageSize;
    let next = this.ports.members.pageMembers(m.event.groupId, undefined, size);
    for (;;) {
      const page = await next;
      if (page.length < size) {
        if (page.length > 0) yield page;
        return;
      }
      next = this.ports.members.pageMembers(m.event.groupId, page[page.length - 1], pageSize);
      // Awaited on the next turn; a run that stops before then must not leave it unhandled.
      next.catch(() => undefined);
      size = pageSize;
      yield page;
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
    const requests = new Map<string, GatewayRequest>();
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
      if (devs.length === 1) {
        const d = devs[0] as DeviceEntry;
        this.#target(requests, d.gatewayAddress, mi, userId, [d.deviceId]);
        continue;
      }
      const byGateway = new Map<string, string[]>();
      for (const d of devs) {
        const ids = byGateway.get(d.gatewayAddress);
        if (ids) ids.push(d.deviceId);
        else byGateway.set(d.gatewayAddress, [d.deviceId]);
      }
      if (byGateway.size > 1) this.#split.set(splitKey(m.envelope.msgId, userId), { remaining: byGateway.size, delivered: false });
      for (const [address, deviceIds] of byGateway) this.#target(requests, address, mi, userId, deviceIds);
    }
    for (const [address, { request }] of requests) {
      this.report.pushCalls += 1;
      this.#answers.push(this.ports.lanes.submit(address, request).then((outcome) => this.#settle(request, outcome)));
    }
  }

  /** Adds a member's devices behind one gateway to that gateway's request (the message once per request). */
  #target(requests: Map<string, GatewayRequest>, address: string, mi: number, userId: string, deviceIds: string[]): void {
    let r = requests.get(address);
    if (!r) {
      r = { request: { messages: [], targets: [] }, index: new Map() };
      requests.set(address, r);
    }
    let messageIndex = r.index.get(mi);
    if (messageIndex === undefined) {
      messageIndex = r.request.messages.push((this.messages[mi] as PreparedMessage).envelope) - 1;
      r.index.set(mi, messageIndex);
    }
    r.request.targets.push({ userId, deviceIds, messageIndex });
  }

  /**
   * Counts a lane's answer (one result per device, in the request's order); members none
   * of whose devices took a message get a push task.
   */
  #settle(request: PushBatchRequest, outcome: LaneOutcome): void {
    const { results } = outcome;
    let pos = 0;
    let delivered = 0;
    for (const t of request.targets) {
      let got = false;
      for (let d = 0; d < t.deviceIds.length; d++) {
        if (results[pos++]?.delivered) {
          got = true;
          delivered += 1;
        }
      }
      const envelope = request.messages[t.messageIndex];
      if (envelope) this.#settleMember(envelope, t.userId, got);
    }
    const failed = results.length - delivered;
    this.report.delivered += delivered;
    if (outcome.shed) this.report.shed += failed;
    else this.report.undelivered += failed;
    if (delivered > 0) this.ports.metrics?.fanoutTargets.inc({ outcome: 'delivered' }, delivered);
    if (failed > 0) this.ports.metrics?.fanoutTargets.inc({ outcome: outcome.shed ? 'shed' : 'undelivered' }, failed);
  }

  /** A member reached by no device behind this gateway: a push task, unless another gateway's devices took it. */
  #settleMember(envelope: PushEnvelope, userId: string, got: boolean): void {
    let reached = got;
    if (this.#split.size > 0) {
      const key = splitKey(envelope.msgId, userId);
      const split = this.#split.get(key);
      if (split) {
        split.remaining -= 1;
        split.delivered ||= got;
        if (split.remaining > 0) return;
        this.#split.delete(key);
        reached = split.delivered;
      }
    }
    if (!reached) this.tasks.add(userId, { msgId: envelope.msgId, groupId: envelope.conversationId, senderId: envelope.senderId });
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
