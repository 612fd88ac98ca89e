/**
 * route-group's logic: RouteGroupMessage over injected ports.
 *
 *   validate (nothing touched on bad input) → claim msg_id → group exists (else
 *   INVALID_RECIPIENT) → sender is a member (else NOT_GROUP_MEMBER) → group sequence →
 *   filter → seal → publish GroupMessage to group_msg (acks=all) → complete claim →
 *   answer `published` with the member count.
 * Success only once Kafka acknowledged the record; any failure before that releases the
 * claim and fails the call, so the gateway may send the same msg_id again. A retry of a
 * finished msg_id gets the first answer (same sequence number), whatever happened to the
 * membership since; the same msg_id with another message is DUPLICATE_MESSAGE.
 */
import { messageFingerprint } from '../../shared/dedup';
import { ImError, isImError } from '../../shared/errors';
import type { RouteGroupMessageRequest, RouteGroupMessageResponse } from '../../shared/gen/im/v1/im';
import type { CallContext } from '../../shared/runtime/grpc';
import { sleep } from '../../shared/runtime/timeout';
import { groupConversationId } from '../../shared/sequence/conversation-id';
import type { GroupOutcome, RouteGroupPorts } from './ports';
import { SENDER_DEVICE_KEY, validateRouteGroup } from './validate';

const FN = 'route-group';
/** Polling a concurrent duplicate's claim: first pause, and the cap it doubles up to. */
const CLAIM_POLL_MIN_MS = 5;
const CLAIM_POLL_MAX_MS = 50;

type Claimed = { readonly token: string } | { readonly outcome: GroupOutcome };

export class RouteGroupHandler {
  constructor(private readonly ports: RouteGroupPorts) {}

  async route(req: RouteGroupMessageRequest, call: CallContext): Promise<RouteGroupMessageResponse> {
    const { ports } = this;
    const started = ports.clock();
    validateRouteGroup(req, ports.settings.maxMessageSize);
    // Timestamp and metadata stay out: a gateway retry may re-stamp the request.
    const fingerprint = messageFingerprint({ senderId: req.senderId, groupId: req.groupId, content: req.content });
    const claimed = await this.#claim(req.msgId, fingerprint, call);
    if ('outcome' in claimed) return answer(claimed.outcome);

    let outcome: GroupOutcome;
    try {
      outcome = await this.#routeClaimed(req, call, started);
    } catch (err) {
      // Nothing reached Kafka: free the msg_id so a retry routes it anew.
      await ports.claims.release(req.msgId, claimed.token).catch((e: unknown) =>
        ports.logger.warn({ err: (e as Error).message, msgId: req.msgId }, 'claim release failed; it expires on its own'),
      );
      throw err;
    }
    try {
      const done = await ports.claims.complete(req.msgId, fingerprint, outcome);
      if (done.kind === 'already_completed') return answer(done.outcome);
    } catch (err) {
      // The message is in Kafka; failing now would invite a second copy.
      ports.metrics.errors.inc({ fn: FN, code: isImError(err) ? err.code : 'INTERNAL' });
      ports.logger.warn({ err: (err as Error).message, msgId: req.msgId }, 'claim completion failed after publishing');
    }
    return answer(outcome);
  }

  /** Claims the msg_id or returns the first request's outcome (waiting a little for a concurrent one). */
  async #claim(msgId: string, fingerprint: string, call: CallContext): Promise<Claimed> {
    const { ports } = this;
    const waitUntil = Math.min(ports.clock() + ports.settings.claimWaitMs, call.deadline);
    for (let pause = CLAIM_POLL_MIN_MS; ; pause = Math.min(pause * 2, CLAIM_POLL_MAX_MS)) {
      const r = await ports.claims.claim(msgId, fingerprint);
      if (r.kind === 'claimed') return { token: r.token };
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

  async #routeClaimed(req: RouteGroupMessageRequest, call: CallContext, started: number): Promise<GroupOutcome> {
    const { ports } = this;
    const membership = await ports.membership.check(req.groupId, req.senderId);
    if (!membership) {
      throw new ImError('INVALID_RECIPIENT', `group ${req.groupId} does not exist`, { details: { field: 'group_id' } });
    }
    if (!membership.isMember) {
      throw new ImError('NOT_GROUP_MEMBER', `${req.senderId} is not a member of group ${req.groupId}`, {
        details: { field: 'sender_id' },
      });
    }
    const sequenceNumber = await ports.sequences.next(groupConversationId(req.groupId));

    let text: string;
    try {
      text = ports.filter.apply(req.content);
    } catch (err) {
      if (!isImError(err) || err.code !== 'CONTENT_BLOCKED') throw err;
      // Stored as the outcome: a retry is refused the same way without a new number.
      return { kind: 'blocked', message: err.message };
    }
    const serverTime = ports.clock();
    const content = await ports.sealer.seal(text, req.msgId);
    const left = call.deadline - ports.clock();
    if (left <= 0) throw new ImError('ROUTING_FAILED', 'deadline passed before the message could be published');
    await ports.publisher.publish(
      {
        msgId: req.msgId,
        senderId: req.senderId,
        groupId: req.groupId,
        sequenceNumber,
        content,
        timestamp: req.timestamp,
        serverTime,
        metadata: req.metadata,
        memberCount: membership.memberCount,
        senderDeviceId: req.metadata[SENDER_DEVICE_KEY] ?? '',
      },
      Math.min(ports.settings.publishTimeoutMs, left),
    );
    ports.metrics.messagesRouted.inc({ type: 'group', path: 'published' });
    ports.metrics.routingLatency.observe({ type: 'group' }, ports.clock() - started);
    return { kind: 'published', sequenceNumber, memberCount: membership.memberCount };
  }
}

function answer(outcome: GroupOutcome): RouteGroupMessageResponse {
  if (outcome.kind === 'blocked') throw new ImError('CONTENT_BLOCKED', outcome.message);
  return {
    success: true,
    status: 'published',
    sequenceNumber: outcome.sequenceNumber,
    memberCount: outcome.memberCount,
    errorMessage: '',
  };
}
