/**
 * route-private's logic: RoutePrivateMessage and GetMessageStatus over injected ports.
 *
 * RoutePrivateMessage, in order:
 *   validate (nothing touched on bad input) → recipient exists → claim msg_id →
 *   sequence (with the claim in one Redis call when numberingClaims is wired) →
 *   filter → seal → registry + push to every device (fast path) →
 *   offline_msg (always, or only when no device took it) → status and complete claim.
 * The answer is success only once a device took the message or Kafka acknowledged it;
 * otherwise the claim is released and the call fails with a retryable code, so the
 * gateway may simply send the same msg_id again. docs/route-private.md has the why.
 */
import { ImError, isImError } from '../../shared/errors';
import type { PushEnvelope } from '../../shared/gen/gateway/v1/gateway';
import type {
  GetMessageStatusRequest,
  GetMessageStatusResponse,
  RoutePrivateMessageRequest,
  RoutePrivateMessageResponse,
} from '../../shared/gen/im/v1/im';
import { messageFingerprint, type ClaimResult } from '../../shared/dedup';
import type { CallContext } from '../../shared/runtime/grpc';
import { sleep, TimeoutError, withTimeout } from '../../shared/runtime/timeout';
import { privateConversationId } from '../../shared/sequence/conversation-id';
import type { NumberedClaim } from './claim-and-number';
import { pushToDevices } from './fast-path';
import type { RouteOutcome, RoutePrivatePorts } from './ports';
import { checkMsgId, validateRoutePrivate } from './validate';

const FN = 'route-private';
/** Polling a concurrent duplicate's claim: first pause, and the cap it doubles up to. */
const CLAIM_POLL_MIN_MS = 5;
const CLAIM_POLL_MAX_MS = 50;
/** Time kept back from the caller's deadline to send our answer. */
const ANSWER_MARGIN_MS = 50;

/** A won claim (with the next number when it came along) or the first request's outcome. */
type Claimed = { readonly token: string; readonly sequenceNumber: number | undefined } | { readonly outcome: RouteOutcome };

export class RoutePrivateHandler {
  // Bound once: prom-client hashes the labels on every unbound call.
  readonly #routedFast;
  readonly #routedOffline;
  readonly #latency;

  constructor(private readonly ports: RoutePrivatePorts) {
    this.#routedFast = ports.metrics.messagesRouted.labels({ type: 'private', path: 'fast' });
    this.#routedOffline = ports.metrics.messagesRouted.labels({ type: 'private', path: 'offline' });
    this.#latency = ports.metrics.routingLatency.labels({ type: 'private' });
  }

  async route(req: RoutePrivateMessageRequest, call: CallContext): Promise<RoutePrivateMessageResponse> {
    const { ports } = this;
    const started = ports.clock();
    validateRoutePrivate(req, ports.settings.maxMessageSize);
    if (!(await ports.recipients.exists(req.recipientId))) {
      throw new ImError('INVALID_RECIPIENT', `recipient ${req.recipientId} does not exist`, {
        details: { field: 'recipient_id' },
      });
    }
    // The timestamp and metadata stay out: a gateway retry may re-stamp the request.
    const fingerprint = messageFingerprint({ senderId: req.senderId, recipientId: req.recipientId, content: req.content });
    const conversationId = privateConversationId(req.senderId, req.recipientId);
    const claimed = await this.#claim(req.msgId, fingerprint, conversationId, call);
    if ('outcome' in claimed) return answer(claimed.outcome);

    let outcome: RouteOutcome;
    let statusWrite: Promise<void> | undefined;
    try {
      ({ outcome, statusWrite } = await this.#routeClaimed(req, call, started, conversationId, claimed.sequenceNumber));
    } catch (err) {
      // Nothing was acknowledged: free the msg_id so the gateway's retry routes it anew.
      await ports.claims.release(req.msgId, claimed.token).catch((e: unknown) =>
        ports.logger.warn({ err: (e as Error).message, msgId: req.msgId }, 'claim release failed; it expires on its own'),
      );
      throw err;
    }
    // The status and the claim's outcome are independent records: written side by side.
    const completing = ports.claims.complete(req.msgId, fingerprint, outcome);
    await statusWrite;
    try {
      const done = await completing;
      // Our claim expired and another request finished first: its answer is the one.
      if (done.kind === 'already_completed') return answer(done.outcome);
    } catch (err) {
      // The message is delivered or in Kafka; failing now would invite a second copy.
      ports.metrics.errors.inc({ fn: FN, code: isImError(err) ? err.code : 'INTERNAL' });
      ports.logger.warn({ err: (err as Error).message, msgId: req.msgId }, 'claim completion failed after routing');
    }
    return answer(outcome);
  }

  async status(req: GetMessageStatusRequest): Promise<GetMessageStatusResponse> {
    checkMsgId(req.msgId);
    let found;
    try {
      found = await this.ports.status.get(req.msgId);
    } catch (err) {
      throw new ImError('RETRIEVAL_ERROR', 'message status store unavailable', { cause: err });
    }
    if (!found) {
      throw new ImError('NOT_FOUND', `no status for msg_id ${req.msgId}: never routed here, or older than MESSAGE_TTL`);
    }
    return {
      status: found.status,
      deliveredAt: found.deliveredAt,
      readAt: found.readAt,
      deliveredDevices: [...found.deliveredDevices],
    };
  }

  /**
   * Claims the msg_id, or returns the first request's outcome. A concurrent duplicate
   * waits (polling) for that outcome up to DEDUP_IN_PROGRESS_WAIT and the call's
   * deadline; if the first request fails meanwhile, its claim is released and this one
   * takes over.
   */
  async #claim(msgId: string, fingerprint: string, conversationId: string, call: CallContext): Promise<Claimed> {
    const { ports } = this;
    const waitUntil = Math.min(ports.clock() + ports.settings.claimWaitMs, call.deadline);
    for (let pause = CLAIM_POLL_MIN_MS; ; pause = Math.min(pause * 2, CLAIM_POLL_MAX_MS)) {
      const r = ports.numberingClaims
        ? await ports.numberingClaims.claim(msgId, fingerprint, conversationId)
        : unnumbered(await ports.claims.claim(msgId, fingerprint));
      if (r.kind === 'claimed') return { token: r.token, sequenceNumber: r.sequenceNumber };
      if (r.kind === 'completed') return { outcome: r.outcome };
      if (r.kind === 'conflict') {
        throw new ImError('DUPLICATE_MESSAGE', `msg_id ${msgId} was already used for a different message`, {
          details: { field: 'msg_id' },
        });
      }
      if (ports.clock() + pause > waitUntil || call.signal.aborted) {
        throw new ImError('ROUTING_FAILED', `msg_id ${msgId} is still being routed by an earlier request; retry`);
      }
      await sleep(pause, call.signal);
    }
  }

  /** Routes a claimed message; `statusWrite` (never rejecting) records its status meanwhile. */
  async #routeClaimed(
    req: RoutePrivateMessageRequest,
    call: CallContext,
    started: number,
    conversationId: string,
    drawn: number | undefined,
  ): Promise<{ outcome: RouteOutcome; statusWrite?: Promise<void> }> {
    const { ports } = this;
    const sequenceNumber = drawn ?? (await ports.sequences.next(conversationId));

    let text: string;
    try {
      text = ports.filter.apply(req.content);
    } catch (err) {
      if (!isImError(err) || err.code !== 'CONTENT_BLOCKED') throw err;
      // Stored as the outcome: a retry is refused the same way without a new number.
      await ports.status.markFailed(req.msgId).catch(() => undefined);
      return { outcome: { kind: 'blocked', message: err.message } };
    }
    const serverTime = ports.clock();
    const content = await ports.sealer.seal(text, req.msgId);

    const envelope: PushEnvelope = {
      msgId: req.msgId,
      senderId: req.senderId,
      conversationType: 'private',
      conversationId: req.senderId,
      sequenceNumber,
      content: text,
      timestamp: req.timestamp,
      serverTime,
      metadata: req.metadata,
      recipientId: req.recipientId,
    };
    const now = ports.clock();
    // Half of what the caller left (at most RETRY_TIMEOUT) for pushing; the rest is Kafka's.
    const pushDeadline = Math.min(now + ports.settings.pushBudgetMs, now + (call.deadline - now) / 2);
    const { delivered } = await pushToDevices(ports, req.recipientId, envelope, pushDeadline);

    const inbox = ports.settings.offlineStorePolicy === 'always' || delivered.length === 0;
    if (inbox) {
      try {
        await this.#publish(req, conversationId, sequenceNumber, content, serverTime, delivered, call.deadline);
      } catch (err) {
        if (delivered.length === 0) throw err;
        // A device has it: success stands (a failure would make the retry push it again).
        ports.metrics.errors.inc({ fn: FN, code: isImError(err) ? err.code : 'KAFKA_ERROR' });
        ports.logger.warn({ err: (err as Error).message, msgId: req.msgId }, 'pushed, but the inbox copy failed');
      }
    }

    const status = delivered.length > 0 ? 'delivered' : 'offline';
    const statusWrite = (
      status === 'delivered' ? ports.status.markDelivered(req.msgId, delivered, ports.clock()) : ports.status.markPending(req.msgId)
    ).then(
      () => undefined,
      (err: unknown) => {
        // Status is informational; the message itself is safe.
        ports.metrics.errors.inc({ fn: FN, code: 'STORAGE_ERROR' });
        ports.logger.warn({ err: (err as Error).message, msgId: req.msgId }, 'status write failed');
      },
    );
    (status === 'delivered' ? this.#routedFast : this.#routedOffline).inc();
    this.#latency.observe(ports.clock() - started);
    return { outcome: { kind: 'routed', status, sequenceNumber }, statusWrite };
  }

  async #publish(
    req: RoutePrivateMessageRequest,
    conversationId: string,
    sequenceNumber: number,
    content: Awaited<ReturnType<RoutePrivatePorts['sealer']['seal']>>,
    serverTime: number,
    delivered: string[],
    deadline: number,
  ): Promise<void> {
    // Keep a moment to answer before the caller's deadline, or it sees DEADLINE_EXCEEDED instead of our code.
    const left = deadline - this.ports.clock() - ANSWER_MARGIN_MS;
    if (left <= 0) throw new ImError('ROUTING_FAILED', 'no time left before the deadline to store the message');
    const timeoutMs = Math.min(this.ports.settings.publishTimeoutMs, left);
    const publishing = this.ports.offline.publish(
      {
        msgId: req.msgId,
        senderId: req.senderId,
        recipientId: req.recipientId,
        conversationType: 'private',
        conversationId,
        sequenceNumber,
        content,
        timestamp: req.timestamp,
        serverTime,
        metadata: req.metadata,
        deliveredDevices: delivered,
      },
      timeoutMs,
    );
    try {
      // The client's own timeout does not cover (re)connecting to the brokers; this does.
      await withTimeout(publishing, timeoutMs, 'offline_msg publish');
    } catch (err) {
      if (err instanceof TimeoutError) {
        publishing.catch(() => undefined);
        throw new ImError('KAFKA_ERROR', `offline_msg did not acknowledge within ${timeoutMs}ms`, { cause: err });
      }
      throw isImError(err) ? err : new ImError('KAFKA_ERROR', 'offline_msg publish failed', { cause: err });
    }
  }
}

function unnumbered(claim: ClaimResult<RouteOutcome>): NumberedClaim {
  return claim.kind === 'claimed' ? { kind: 'claimed', token: claim.token, sequenceNumber: undefined } : claim;
}

function answer(outcome: RouteOutcome): RoutePrivateMessageResponse {
  if (outcome.kind === 'blocked') throw new ImError('CONTENT_BLOCKED', outcome.message);
  return { success: true, status: outcome.status, sequenceNumber: outcome.sequenceNumber, errorMessage: '' };
}
