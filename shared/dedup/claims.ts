/**
 * MessageClaims: the idempotency record of a msg_id in one stage (its `scope`), in
 * Redis. Modelled on Powertools' idempotency: claim → IN_PROGRESS (short TTL, so a
 * crashed owner's claim expires) → COMPLETED with the stored outcome (MESSAGE_TTL), so a
 * retried msg_id gets the first answer back. Each step is one Lua script, hence atomic.
 *
 * Scopes keep stages apart: route-private's record never tells persist-offline that a
 * message is already stored, and the other way round.
 *
 * With `batchPerTurn`, the claims and completions a process starts in one event-loop
 * turn go to Redis as one script call each (lua-many runs the same scripts key by key,
 * in call order), which is what a busy router wants; replies and errors stay per call.
 */
import { randomUUID } from 'node:crypto';
import { ImError } from '../errors';
import type { Metrics } from '../observability/metrics';
import { manyArgs } from '../storage/lua-many';
import type { Redis } from '../storage/redis';
import { TurnBatcher } from '../runtime/turn-batch';
import { RedisKeys, isValidClaimScope } from '../storage/redis-keys';
import { ClaimReply, defineClaimCommands, type ClaimCommands, type ScriptReply } from './scripts';

export type ClaimResult<O> =
  /** First time: do the work, then complete() — or release() after a failure. */
  | { readonly kind: 'claimed'; readonly token: string }
  /** A concurrent duplicate: the first request is still being processed. */
  | { readonly kind: 'in_progress' }
  /** A retry of a finished request: answer with the stored first outcome. */
  | { readonly kind: 'completed'; readonly outcome: O }
  /** Same msg_id, different message: DUPLICATE_MESSAGE. */
  | { readonly kind: 'conflict' };

export type CompleteResult<O> =
  | { readonly kind: 'stored'; readonly outcome: O }
  /** Someone completed first (e.g. after this claim expired): their outcome stands. */
  | { readonly kind: 'already_completed'; readonly outcome: O }
  | { readonly kind: 'conflict' };

export interface MessageClaimsOptions<O> {
  readonly redis: Redis;
  /** The stage owning these records, e.g. `route-private`; no `:`. */
  readonly scope: string;
  /** Lifetime of a completed record (config.messages.ttlMs, MESSAGE_TTL). */
  readonly ttlMs: number;
  /** Lifetime of an unfinished claim (config.messages.claimInProgressTtlMs). */
  readonly inProgressTtlMs: number;
  readonly metrics?: Pick<Metrics, 'claims'>;
  /** Checks a stored outcome read back from Redis; by default it is trusted as O. */
  readonly decodeOutcome?: (value: unknown) => O;
  /** Send the claims (and completions) of one event-loop turn as one script call. */
  readonly batchPerTurn?: boolean;
}

interface KeyCall {
  readonly key: string;
  readonly args: readonly (string | number)[];
}

const MAX_MSG_ID_LENGTH = 128;

export class MessageClaims<O> {
  readonly #cmd: ClaimCommands;
  readonly #scope: string;
  readonly #ttlMs: number;
  readonly #inProgressTtlMs: number;
  readonly #metrics: Pick<Metrics, 'claims'> | undefined;
  readonly #decode: (value: unknown) => O;
  readonly #claims: TurnBatcher<KeyCall, ScriptReply> | undefined;
  readonly #completions: TurnBatcher<KeyCall, ScriptReply> | undefined;

  constructor(opts: MessageClaimsOptions<O>) {
    if (!isValidClaimScope(opts.scope)) throw new Error(`invalid claim scope "${opts.scope}"`);
    if (!(opts.ttlMs > 0) || !(opts.inProgressTtlMs > 0)) throw new Error('claim TTLs must be positive');
    this.#cmd = defineClaimCommands(opts.redis);
    this.#scope = opts.scope;
    this.#ttlMs = Math.trunc(opts.ttlMs);
    this.#inProgressTtlMs = Math.trunc(opts.inProgressTtlMs);
    this.#metrics = opts.metrics;
    this.#decode = opts.decodeOutcome ?? ((value) => value as O);
    if (opts.batchPerTurn) {
      this.#claims = new TurnBatcher((calls) => this.#cmd.imClaimMany(calls.length, ...manyArgs(calls)));
      this.#completions = new TurnBatcher((calls) => this.#cmd.imClaimCompleteMany(calls.length, ...manyArgs(calls)));
    }
  }

  async claim(msgId: string, fingerprint: string): Promise<ClaimResult<O>> {
    const token = randomUUID();
    const key = this.#key(msgId);
    const [code, payload] = await this.#call(() =>
      this.#claims
        ? this.#claims.add({ key, args: [fingerprint, token, this.#inProgressTtlMs] })
        : this.#cmd.imClaim(key, fingerprint, token, this.#inProgressTtlMs),
    );
    const result: ClaimResult<O> =
      code === ClaimReply.CLAIMED
        ? { kind: 'claimed', token }
        : code === ClaimReply.IN_PROGRESS
          ? { kind: 'in_progress' }
          : code === ClaimReply.COMPLETED
            ? { kind: 'completed', outcome: this.#parse(payload) }
            : code === ClaimReply.CONFLICT
              ? { kind: 'conflict' }
              : this.#unexpected(code);
    this.#metrics?.claims.inc({ scope: this.#scope, result: result.kind });
    return result;
  }

  /** Records the outcome of a claimed msg_id for MESSAGE_TTL; the first outcome wins. */
  async complete(msgId: string, fingerprint: string, outcome: O): Promise<CompleteResult<O>> {
    const json = JSON.stringify(outcome);
    const key = this.#key(msgId);
    const [code, payload] = await this.#call(() =>
      this.#completions
        ? this.#completions.add({ key, args: [fingerprint, json, this.#ttlMs] })
        : this.#cmd.imClaimComplete(key, fingerprint, json, this.#ttlMs),
    );
    if (code === ClaimReply.STORED) return { kind: 'stored', outcome };
    if (code === ClaimReply.ALREADY_COMPLETED) return { kind: 'already_completed', outcome: this.#parse(payload) };
    if (code === ClaimReply.CONFLICT) return { kind: 'conflict' };
    return this.#unexpected(code);
  }

  /**
   * Drops an unfinished claim so a retry can proceed (after a failure). With the
   * token from claim(), only that claim is released. Completed records stay.
   */
  async release(msgId: string, token = ''): Promise<boolean> {
    const released = await this.#call(() => this.#cmd.imClaimRelease(this.#key(msgId), token));
    return released === 1;
  }

  #key(msgId: string): string {
    if (msgId.length === 0 || msgId.length > MAX_MSG_ID_LENGTH) {
      throw new ImError('INVALID_ARGUMENT', `msg_id must be 1-${MAX_MSG_ID_LENGTH} characters`, {
        details: { field: 'msg_id' },
      });
    }
    return RedisKeys.messageClaim(this.#scope, msgId);
  }

  #parse(payload: string): O {
    try {
      return this.#decode(JSON.parse(payload) as unknown);
    } catch (err) {
      throw new ImError('INTERNAL', 'stored message outcome is unreadable', { cause: err });
    }
  }

  #unexpected(code: number): never {
    throw new ImError('INTERNAL', `unexpected claim reply ${code}`);
  }

  async #call<T extends ScriptReply | number>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof ImError) throw err;
      throw new ImError('SERVICE_UNAVAILABLE', 'message dedup store (redis) unavailable', { cause: err });
    }
  }
}
