/**
 * The OFFLINE_PUSH tasks of a fanout: one per member who has no device online (or whose
 * devices all failed to take the push), never one per device and never for the sender.
 * Tasks are published in batches of `flushSize` as they accumulate, so a large group's
 * offline members are never all held at once; the same user in several messages of one
 * buffer gets one task covering them all.
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

export class PushTaskBuffer {
  #tasks = new Map<string, OfflinePushTask>();
  readonly #sends: Promise<void>[] = [];
  #count = 0;

  constructor(
    private readonly sink: PushTaskSink | undefined,
    private readonly flushSize: number,
    private readonly clock: () => number,
  ) {}

  /** Tasks handed to the sink so far. */
  get count(): number {
    return this.#count;
  }

  add(userId: string, message: TaskMessage): void {
    if (!this.sink || userId === message.senderId) return;
    const key = `${message.groupId}\n${userId}`;
    let task = this.#tasks.get(key);
    if (!task) {
      task = {
        taskType: OFFLINE_PUSH,
        userId,
        conversationType: 'group',
        conversationId: message.groupId,
        msgIds: [],
        messageCount: 0,
        lastSenderId: message.senderId,
        createdAt: this.clock(),
      };
      this.#tasks.set(key, task);
    }
    if (!task.msgIds.includes(message.msgId)) {
      task.msgIds.push(message.msgId);
      task.messageCount += 1;
      task.lastSenderId = message.senderId;
    }
    if (this.#tasks.size >= this.flushSize) this.#flush();
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
    if (!this.sink || this.#tasks.size === 0) return;
    const tasks = [...this.#tasks.values()];
    this.#tasks = new Map();
    this.#count += tasks.length;
    const send = this.sink.send(tasks);
    // Observed in drain(); never an unhandled rejection meanwhile.
    send.catch(() => undefined);
    this.#sends.push(send);
  }
}
