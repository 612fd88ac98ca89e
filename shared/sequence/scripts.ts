/**
 * The sequence Lua scripts registered on an ioredis client (defineCommand: EVALSHA
 * with a one-time EVAL per connection, auto-pipelined when the client enables it) and
 * the return codes they share.
 */
import type { Redis } from '../storage/redis';
import { initScript } from './lua/init-1';
import { nextManyScript } from './lua/next-many';
import { raiseScript } from './lua/raise-1';

/** Negative replies of the sequence scripts. */
export const SequenceReply = {
  NO_STATE: -1,
  /** next-many only. */
  EXHAUSTED: -2,
} as const;

/** The commands this module adds to a client; nothing else of the client is used. */
export interface SequenceCommands {
  /** imSeqNext(n, key1..keyN, idleTtlMs): one reply per key. */
  imSeqNext(...keysThenTtl: [number, ...string[]]): Promise<number[]>;
  imSeqRaise(key: string, reservedUntil: string, idleTtlMs: string): Promise<number>;
  imSeqInit(key: string, reservedUntil: string, idleTtlMs: string): Promise<number>;
}

/** Registers the scripts (idempotent: re-defining replaces the same script). */
export function defineSequenceCommands(redis: Redis): SequenceCommands {
  redis.defineCommand('imSeqNext', { lua: nextManyScript }); // number of keys given per call
  redis.defineCommand('imSeqRaise', { numberOfKeys: 1, lua: raiseScript });
  redis.defineCommand('imSeqInit', { numberOfKeys: 1, lua: initScript });
  return redis as unknown as SequenceCommands;
}
