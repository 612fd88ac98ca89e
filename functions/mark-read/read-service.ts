/**
 * Read receipts as business logic over injected stores: marking one message or a
 * whole conversation read, and answering who read a message. The caller is always
 * the authenticated user; what they may touch is decided here, and anything outside
 * it is NOT_FOUND, exactly like a message that does not exist.
 */
import { ImError } from '../../shared/errors';
import type { ReadReceiptEvent } from '../../shared/gen/im/events/v1/events';
import { parseConversationId } from '../../shared/sequence/conversation-id';
import type { InboxMessage, InboxStore } from '../../shared/storage/inbox';
import type { MessageStatusStore } from '../../shared/storage/message-status';
import type { Receipt, ReceiptStore, ReceiptTarget } from '../../shared/storage/receipts';

/** Publishes a receipt to `read_receipt_events`, keyed by the message's sender. */
export type ReceiptPublisher = (event: ReadReceiptEvent) => Promise<void>;

export interface ReadServiceDeps {
  readonly inbox: InboxStore;
  readonly receipts: ReceiptStore;
  readonly status: MessageStatusStore;
  readonly publish: ReceiptPublisher;
  readonly clock: () => number;
}

export interface MarkMessageResult {
  readonly msgId: string;
  readonly conversationType: 'private' | 'group';
  readonly conversationId: string;
  readonly readAt: number;
  readonly firstRead: boolean;
}

export interface MarkConversationResult {
  readonly conversationId: string;
  readonly conversationType: 'private' | 'group';
  readonly marked: number;
  readonly readSeq: number;
}

export interface ReceiptsResult {
  readonly target: ReceiptTarget;
  readonly receipts: Receipt[];
  readonly readers: number;
  readonly truncated: boolean;
}

/** A client clock this far ahead is taken as now; further ahead is refused. */
export const READ_AT_SKEW_MS = 30_000;
export const MAX_RECEIPTS = 1000;

const notFound = (): ImError => new ImError('NOT_FOUND', 'message not found');

export class ReadService {
  constructor(private readonly d: ReadServiceDeps) {}

  async markMessage(caller: string, msgId: string, deviceId: string, readAtIn: number | undefined): Promise<MarkMessageResult> {
    const readAt = this.#readAt(readAtIn);
    const received = await this.d.inbox.findReceived(caller, msgId);
    if (received) {
      const target = targetOf(received);
      const outcome = await this.d.receipts.markPrivateRead(caller, target, deviceId, readAt, async (o) => {
        if (o.firstRead) await this.d.publish(eventOf(target, caller, deviceId, o.readAt, target.sequenceNumber));
      });
      // On every call, not only the first: a retry after a Redis failure heals the status.
      if (received.conversationType !== 'group') await this.#status(() => this.d.status.markRead(msgId, outcome.readAt));
      return { ...resultOf(target), readAt: outcome.readAt, firstRead: outcome.firstRead };
    }
    const group = await this.d.inbox.findGroupMessage(msgId, caller);
    if (!group || !group.member || group.message.groupId === undefined) throw notFound();
    const target = targetOf(group.message);
    const outcome = await this.d.receipts.markGroupRead(caller, group.message.groupId, target, deviceId, readAt, async (o) => {
      if (o.firstRead) await this.d.publish(eventOf(target, caller, deviceId, o.readAt, o.readSeq));
    });
    return { ...resultOf(target), readAt: outcome.readAt, firstRead: outcome.firstRead };
  }

  async markConversation(
    caller: string,
    conversationId: string,
    declaredType: 'private' | 'group' | undefined,
    upTo: number | undefined,
    deviceId: string,
  ): Promise<MarkConversationResult> {
    const parsed = parseConversationId(conversationId);
    if (!parsed) throw new ImError('NOT_FOUND', 'conversation not found');
    if (declaredType !== undefined && declaredType !== parsed.kind) {
      throw new ImError('INVALID_ARGUMENT', `conversation_type does not match conversation_id (${parsed.kind})`, {
        details: { field: 'body.conversation_type' },
      });
    }
    if (parsed.kind === 'group') {
      if (!(await this.d.inbox.isMember(parsed.groupId, caller))) throw new ImError('NOT_FOUND', 'conversation not found');
      const readSeq = await this.d.receipts.markGroupConversationRead(caller, parsed.groupId, upTo);
      return { conversationId, conversationType: 'group', marked: 0, readSeq };
    }
    if (!parsed.users.includes(caller)) throw new ImError('NOT_FOUND', 'conversation not found');
    const now = this.d.clock();
    const outcome = await this.d.receipts.markPrivateConversationRead(caller, conversationId, upTo, deviceId, now, async (o) => {
      // One event for the newest message: its sequence tells the sender everything up to it is read.
      if (o.newest) await this.d.publish(eventOf(o.newest, caller, deviceId, now, o.newest.sequenceNumber));
    });
    await this.#status(() => this.d.status.markManyRead(outcome.markedMsgIds, now));
    return {
      conversationId,
      conversationType: 'private',
      marked: outcome.marked,
      readSeq: outcome.newest?.sequenceNumber ?? 0,
    };
  }

  /** Receipts of a message the caller sent or takes part in; NOT_FOUND otherwise. */
  async receiptsOf(caller: string, msgId: string): Promise<ReceiptsResult> {
    const target = await this.#visibleTarget(caller, msgId);
    if (!target) throw notFound();
    const { receipts, readers, truncated } = await this.d.receipts.list(msgId, MAX_RECEIPTS);
    return { target, receipts, readers, truncated };
  }

  async #visibleTarget(caller: string, msgId: string): Promise<ReceiptTarget | undefined> {
    const received = await this.d.inbox.findReceived(caller, msgId);
    if (received) return targetOf(received);
    const group = await this.d.inbox.findGroupMessage(msgId, caller);
    if (group) return group.member || group.message.senderId === caller ? targetOf(group.message) : undefined;
    const sent = await this.d.inbox.findSent(caller, msgId);
    if (sent) return targetOf(sent);
    return this.d.receipts.findBySender(caller, msgId);
  }

  #readAt(given: number | undefined): number {
    const now = this.d.clock();
    if (given === undefined) return now;
    if (given > now + READ_AT_SKEW_MS) {
      throw new ImError('INVALID_ARGUMENT', 'read_at is in the future', { details: { field: 'body.read_at' } });
    }
    return Math.min(given, now);
  }

  async #status(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      throw new ImError('SERVICE_UNAVAILABLE', 'message status store (redis) unavailable', { cause: err });
    }
  }
}

function targetOf(m: InboxMessage): ReceiptTarget {
  return {
    msgId: m.msgId,
    senderId: m.senderId,
    conversationType: m.conversationType === 'group' ? 'group' : 'private',
    conversationId: m.conversationId,
    sequenceNumber: m.sequenceNumber,
  };
}

function resultOf(t: ReceiptTarget): Pick<MarkMessageResult, 'msgId' | 'conversationType' | 'conversationId'> {
  return { msgId: t.msgId, conversationType: t.conversationType === 'group' ? 'group' : 'private', conversationId: t.conversationId };
}

function eventOf(t: ReceiptTarget, readerId: string, deviceId: string, readAt: number, seq: number): ReadReceiptEvent {
  return {
    msgId: t.msgId,
    readerId,
    senderId: t.senderId,
    conversationType: t.conversationType,
    conversationId: t.conversationId,
    deviceId,
    readAt,
    sequenceNumber: seq,
  };
}
