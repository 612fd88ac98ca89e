/**
 * Claim a msg_id and, only when this request won the claim, draw the conversation's
 * next sequence number — in one Redis call, batched with every other request of the
 * same event-loop turn. It saves the router one round trip per message; the order
 * "claim before sequence" holds inside the script, so a duplicate never uses up a number.
 *
 * The script runs the unchanged claim-1 and next-many scripts as local functions, so
 * the rules stay those of MessageClaims and SequenceGenerator. When the number needs a
 * refill (new conversation, block used up, Redis lost the state) the claim still
 * stands and no number is returned: the caller asks the SequenceGenerator, which
 * refills from MySQL as usual. Completion and release stay with MessageClaims.
 */
import { randomUUID } from 'node:crypto';
import type { ClaimResult } from '../../shared/dedup';
import { claimScript } from '../../shared/dedup/lua/claim-1';
import { ClaimReply } from '../../shared/dedup/scripts';
import { ImError } from '../../shared/errors';
import type { Metrics } from '../../shared/observability/metrics';
import { TurnBatcher } from '../../shared/runtime/turn-batch';
import { nextManyScript } from '../../shared/sequence/lua/next-many';
import type { Redis } from '../../shared/storage/redis';
import { RedisKeys } from '../../shared/storage/redis-keys';
import type { RouteOutcome } from './ports';

/** A claim result; a won claim carries the next number unless it needs a refill. */
export type NumberedClaim =
  | Exclude<ClaimResult<RouteOutcome>, { kind: 'claimed' }>
  | { readonly kind: 'claimed'; readonly token: string; readonly sequenceNumber: number | undefined };

const claimAndNumberScript = `
local function claim(KEYS, ARGV)
${claimScript}
end
local function next_number(KEYS, ARGV)
${nextManyScript}
end
-- KEYS: claim key, sequence key per request; ARGV[1]: sequence idle TTL,
-- then fingerprint, token, in-progress TTL per request.
-- Reply per request: {claim code, claim payload, number (0: none issued)} or an error.
local seqTtl = ARGV[1]
local out = {}
for i = 1, #KEYS / 2 do
  local a = 1 + (i - 1) * 3
  local ok, r = pcall(claim, {KEYS[2 * i - 1]}, {ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]})
  if not ok then
    out[i] = redis.error_reply(type(r) == 'table' and r.err or tostring(r))
  elseif r[1] == 1 then
    local okn, n = pcall(next_number, {KEYS[2 * i]}, {seqTtl})
    local issued = 0
    if okn and n[1] > 0 then issued = n[1] end
    out[i] = {r[1], r[2], issued}
  else
    out[i] = {r[1], r[2], 0}
  end
end
return out
`;

interface Request {
  readonly claimKey: string;
  readonly seqKey: string;
  readonly fingerprint: string;
  readonly token: string;
}

type Reply = [number, string, number];

interface Commands {
  imRouteClaimAndNumber(...args: (string | number)[]): Promise<(Reply | Error)[]>;
}

export interface ClaimAndNumberOptions {
  readonly redis: Redis;
  /** The claim scope (route-private's). */
  readonly scope: string;
  readonly inProgressTtlMs: number;
  /** Idle TTL of a conversation's sequence state (SEQUENCE_IDLE_TTL; 0 keeps it). */
  readonly sequenceIdleTtlMs: number;
  readonly metrics: Pick<Metrics, 'claims' | 'sequenceGenerated'>;
}

export class ClaimAndNumber {
  readonly #batch: TurnBatcher<Request, Reply>;

  constructor(private readonly opts: ClaimAndNumberOptions) {
    opts.redis.defineCommand('imRouteClaimAndNumber', { lua: claimAndNumberScript }); // number of keys given per call
    const cmd = opts.redis as unknown as Commands;
    const ttl = String(Math.max(0, Math.trunc(opts.sequenceIdleTtlMs)));
    const inProgress = Math.trunc(opts.inProgressTtlMs);
    this.#batch = new TurnBatcher((requests) => {
      const args: (string | number)[] = [requests.length * 2];
      for (const r of requests) args.push(r.claimKey, r.seqKey);
      args.push(ttl);
      for (const r of requests) args.push(r.fingerprint, r.token, inProgress);
      return cmd.imRouteClaimAndNumber(...args);
    });
  }

  async claim(msgId: string, fingerprint: string, conversationId: string): Promise<NumberedClaim> {
    const token = randomUUID();
    let reply: Reply;
    try {
      reply = await this.#batch.add({
        claimKey: RedisKeys.messageClaim(this.opts.scope, msgId),
        seqKey: RedisKeys.sequence(conversationId),
        fingerprint,
        token,
      });
    } catch (err) {
      throw new ImError('SERVICE_UNAVAILABLE', 'message dedup store (redis) unavailable', { cause: err });
    }
    const [code, payload, issued] = reply;
    const result = this.#result(code, payload, token, issued);
    this.opts.metrics.claims.inc({ scope: this.opts.scope, result: result.kind });
    if (result.kind === 'claimed' && result.sequenceNumber !== undefined) this.opts.metrics.sequenceGenerated.inc();
    return result;
  }

  #result(code: number, payload: string, token: string, issued: number): NumberedClaim {
    if (code === ClaimReply.CLAIMED) return { kind: 'claimed', token, sequenceNumber: issued > 0 ? issued : undefined };
    if (code === ClaimReply.IN_PROGRESS) return { kind: 'in_progress' };
    if (code === ClaimReply.CONFLICT) return { kind: 'conflict' };
    if (code === ClaimReply.COMPLETED) {
      try {
        return { kind: 'completed', outcome: JSON.parse(payload) as RouteOutcome };
      } catch (err) {
        throw new ImError('INTERNAL', 'stored message outcome is unreadable', { cause: err });
      }
    }
    throw new ImError('INTERNAL', `unexpected claim reply ${code}`);
  }
}
