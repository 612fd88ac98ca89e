/**
 * What the route-group handler stands on, each as the few calls it makes (function.ts
 * wires the real clients), and the stored outcome of a msg_id that a retry gets back.
 */
import type { ClaimResult, CompleteResult } from '../../shared/dedup';
import type { GroupMessage } from '../../shared/gen/im/events/v1/events';
import type { Membership } from '../../shared/groups';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';

/** The first outcome of a msg_id, stored with its claim for MESSAGE_TTL. */
export type GroupOutcome =
  | { readonly kind: 'published'; readonly sequenceNumber: number; readonly memberCount: number }
  /** The sensitive-word filter (FILTER_ACTION=block) refused the content. */
  | { readonly kind: 'blocked'; readonly message: string };

export type { ContentFilter } from '../../shared/filter/content-filter';
export type { ContentSealer } from '../../shared/crypto/content-ports';
import type { ContentFilter } from '../../shared/filter/content-filter';
import type { ContentSealer } from '../../shared/crypto/content-ports';

export interface MembershipLookup {
  /** undefined when the group does not exist. */
  check(groupId: string, userId: string): Promise<Membership | undefined>;
}

export interface GroupClaims {
  claim(msgId: string, fingerprint: string): Promise<ClaimResult<GroupOutcome>>;
  complete(msgId: string, fingerprint: string, outcome: GroupOutcome): Promise<CompleteResult<GroupOutcome>>;
  release(msgId: string, token: string): Promise<boolean>;
}

export interface Sequences {
  next(conversationId: string): Promise<number>;
}

/** Publishes to group_msg keyed by group id; resolves once Kafka has it (acks=all). */
export interface GroupPublisher {
  publish(message: GroupMessage, timeoutMs: number): Promise<void>;
}

export interface RouteGroupSettings {
  readonly maxMessageSize: number;
  /** Longest wait for a concurrent duplicate's outcome (DEDUP_IN_PROGRESS_WAIT). */
  readonly claimWaitMs: number;
  /** Longest wait for Kafka's acknowledgement (KAFKA_PRODUCER_TIMEOUT). */
  readonly publishTimeoutMs: number;
}

export interface RouteGroupPorts {
  readonly membership: MembershipLookup;
  readonly claims: GroupClaims;
  readonly sequences: Sequences;
  readonly filter: ContentFilter;
  readonly sealer: ContentSealer;
  readonly publisher: GroupPublisher;
  readonly metrics: Pick<Metrics, 'messagesRouted' | 'routingLatency' | 'errors'>;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly settings: RouteGroupSettings;
}
