/**
 * Publishing membership_change (im.events.v1.MembershipChange, keyed by group id): what
 * the admin API (or the user service) emits after a membership write has committed, so
 * routers drop their cached answers about the group.
 */
import type { EventProducer } from '../bus/producer';
import type { MembershipChange } from '../gen/im/events/v1/events';

export const MEMBERSHIP_CHANGES = ['group_created', 'member_added', 'member_removed', 'group_deleted'] as const;
export type MembershipChangeKind = (typeof MEMBERSHIP_CHANGES)[number];

export function membershipChange(
  groupId: string,
  change: MembershipChangeKind,
  changedAt: number,
  member?: { userId: string; role?: string },
): MembershipChange {
  return { groupId, change, userId: member?.userId ?? '', role: member?.role ?? '', changedAt };
}

export class MembershipPublisher {
  constructor(
    private readonly producer: Pick<EventProducer, 'send'>,
    private readonly topic: string,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once Kafka has every event (acks=all); KAFKA_ERROR otherwise. */
  async publish(changes: readonly MembershipChange[]): Promise<void> {
    const perSend = 1000;
    for (let i = 0; i < changes.length; i += perSend) {
      await this.producer.send(
        this.topic,
        'im.events.v1.MembershipChange',
        changes.slice(i, i + perSend).map((event) => ({ key: event.groupId, event })),
        this.timeoutMs,
      );
    }
  }
}
