/**
 * What the route-private handler stands on, each as the few calls it makes, so the
 * handler is plain logic over injected ports (function.ts wires the real clients) and
 * the stored outcome of a msg_id, which a retry gets back.
 */
import type { ClaimResult, CompleteResult } from '../../shared/dedup';
import type { NumberedClaim } from './claim-and-number';
import type { OfflineMessage } from '../../shared/gen/im/events/v1/events';
import type { GatewayPusher } from '../../shared/gateway';
import type { Logger } from '../../shared/observability/logger';
import type { Metrics } from '../../shared/observability/metrics';
import type { DeviceEntry } from '../../shared/registry';
import type { MessageStatus } from '../../shared/storage/message-status';

/** The first outcome of a msg_id, stored with its claim for MESSAGE_TTL. */
export type RouteOutcome =
  | { readonly kind: 'routed'; readonly status: 'delivered' | 'offline'; readonly sequenceNumber: number }
  /** The sensitive-word filter (FILTER_ACTION=block) refused the content. */
  | { readonly kind: 'blocked'; readonly message: string };

export type { ContentFilter } from '../../shared/filter/content-filter';
export type { ContentSealer } from '../../shared/crypto/content-ports';
import type { ContentFilter } from '../../shared/filter/content-filter';
import type { ContentSealer } from '../../shared/crypto/content-ports';

export interface Recipients {
  exists(userId: string): Promise<boolean>;
}

export interface Claims {
  claim(msgId: string, fingerprint: string): Promise<ClaimResult<RouteOutcome>>;
  complete(msgId: string, fingerprint: string, outcome: RouteOutcome): Promise<CompleteResult<RouteOutcome>>;
  release(msgId: string, token: string): Promise<boolean>;
}

/**
 * Optional: claim() and, for a won claim, the conversation's next number in one round
 * trip (claim-and-number.ts). Without it the handler claims, then asks Sequences.
 */
export interface NumberingClaims {
  claim(msgId: string, fingerprint: string, conversationId: string): Promise<NumberedClaim>;
}

export interface Sequences {
  next(conversationId: string): Promise<number>;
}

export interface Devices {
  lookup(userId: string): Promise<readonly DeviceEntry[]>;
}

/** Publishes to offline_msg keyed by recipient; resolves once Kafka has it (acks=all). */
export interface OfflinePublisher {
  publish(message: OfflineMessage, timeoutMs: number): Promise<void>;
}

export interface StatusStore {
  get(msgId: string): Promise<MessageStatus | undefined>;
  markPending(msgId: string): Promise<unknown>;
  markFailed(msgId: string): Promise<unknown>;
  markDelivered(msgId: string, devices: readonly string[], at: number): Promise<unknown>;
}

export interface RouteSettings {
  readonly maxMessageSize: number;
  readonly offlineStorePolicy: 'always' | 'offline-only';
  /** Budget of one push phase (RETRY_TIMEOUT): the fast path never takes longer. */
  readonly pushBudgetMs: number;
  /** Longest wait for a concurrent duplicate's outcome (DEDUP_IN_PROGRESS_WAIT). */
  readonly claimWaitMs: number;
  /** Longest wait for Kafka's acknowledgement (KAFKA_PRODUCER_TIMEOUT). */
  readonly publishTimeoutMs: number;
}

export interface RoutePrivatePorts {
  readonly recipients: Recipients;
  readonly claims: Claims;
  readonly numberingClaims?: NumberingClaims;
  readonly sequences: Sequences;
  readonly filter: ContentFilter;
  readonly sealer: ContentSealer;
  readonly devices: Devices;
  readonly gateway: GatewayPusher;
  readonly offline: OfflinePublisher;
  readonly status: StatusStore;
  readonly metrics: Pick<Metrics, 'messagesRouted' | 'routingLatency' | 'errors'>;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly settings: RouteSettings;
}
