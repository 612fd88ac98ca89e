/**
 * The OFFLINE_PUSH tasks of a fanout: one per member who has no device online (or whose
 * devices all failed to take the push), never one per device and never for the sender.
 * The same user in several messages of one buffer gets one task covering them all.
 *
 * Tasks wait behind the online pushes: they are held until drain() (after every lane
 * answered) or until `holdLimit` members are held, then published in sends of
 * `flushSize`. Encoding a Kafka record costs more CPU than pushing to a device, and both
 * run on one event loop, so publishing while pushes are under way delays the online
 * devices (a 10,000-member group at 30% online: its last push ~4x later, bench/fanout.ts);
 * a notification for an offline device loses nothing by coming a few hundred ms later.
 * A held member costs one map entry pointing at the message (the user id string is the
 * page's own), so holding a whole large group is cheap; the hold limit still keeps an
 * unbounded group from being held at once.
 */
import type { OfflinePushTask } from '../../shared/gen/im/events/v1/events';

export const OFFLINE_PUSH = 'OFFLINE_PUSH';

export interface PushTaskSink {
  /** Publishes durably or throws a retryable ImError (KAFKA_ERROR). */
  send(tasks: readonly OfflinePushTask[]): Promise<void>;
}

export interface TaskMessage {
  readonly msgId: string;
  readonly groupId: string;
  readonly senderId: string;
}

/** What a held member missed: one message (the common case), or several in order. */
type Missed = TaskMessage | TaskMessage[];

export class PushTaskBuffer {
  /** groupId -> userId -> what the member missed. */
  #held = new Map<string, Map<string, Missed>>();
  #size = 0;
  readonly #sends: Promise<void>[] = [];
  #count = 0;

  constructor(
    private readonly sink: PushTaskSink | undefined,
    private readonly flushSize: number,
    private readonly clock: () => number,
    private readonly holdLimit: number = flushSize,
  ) {}

  /** Tasks handed to the sink so far. */
  get count(): number {
    return this.#count;
  }

  add(userId: string, message: TaskMessage): void {
    if (!this.sink || userId === message.senderId) return;
    let users = this.#held.get(message.groupId);
    if (!users) {
      users = new Map();
      this.#held.set(message.groupId, users);
    }
    const missed = users.get(userId);
    if (missed === undefined) {
      users.set(userId, message);
      this.#size += 1;
    } else if (Array.isArray(missed)) {
      if (!missed.some((m) => m.msgId === message.msgId)) missed.push(message);
    } else if (missed.msgId !== message.msgId) {
      users.set(userId, [missed, message]);
    }
    if (this.#size >= this.holdLimit) this.#flush();
  }

  /** Sends what is left and waits for every send; throws the first send's failure. */
  async drain(): Promise<void> {
    this.#flush();
    const results = await Promise.allSettled(this.#sends);
    this.#sends.length = 0;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #flush(): void {
    if (!this.sink || this.#size === 0) return;
    const held = this.#held;
    this.#held = new Map();
    this.#size = 0;
    const createdAt = this.clock();
    let chunk: OfflinePushTask[] = [];
    for (const [groupId, users] of held) {
      for (const [userId, missed] of users) {
        const messages = Array.isArray(missed) ? missed : [missed];
        const last = messages[messages.length - 1] as TaskMessage;
        chunk.push({
          taskType: OFFLINE_PUSH,
          userId,
          conversationType: 'group',
          conversationId: groupId,
          msgIds: messages.map((m) => m.msgId),
          messageCount: messages.length,
          lastSenderId: last.senderId,
          createdAt,
        });
        if (chunk.length >= this.flushSize) {
          this.#send(chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) this.#send(chunk);
  }

  #send(tasks: OfflinePushTask[]): void {
    this.#count += tasks.length;
    const send = this.sink?.send(tasks) ?? Promise.resolve();
    // Observed in drain(); never an unhandled rejection meanwhile.
    send.catch(() => undefined);
    this.#sends.push(send);
  }
}
