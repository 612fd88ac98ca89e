/** The claim Lua scripts registered on an ioredis client, and their reply codes. */
import { manyScript } from '../storage/lua-many';
import type { Redis } from '../storage/redis';
import { claimScript } from './lua/claim-1';
import { completeScript } from './lua/complete-1';
import { releaseScript } from './lua/release-1';

export const ClaimReply = {
  CLAIMED: 1,
  IN_PROGRESS: 2,
  COMPLETED: 3,
  STORED: 1,
  ALREADY_COMPLETED: 0,
  CONFLICT: -1,
} as const;

/** Replies are [code, payload]: Lua tables arrive as arrays. */
export type ScriptReply = [number, string];

export interface ClaimCommands {
  imClaim(key: string, fingerprint: string, token: string, inProgressTtlMs: number): Promise<ScriptReply>;
  imClaimComplete(key: string, fingerprint: string, outcome: string, ttlMs: number): Promise<ScriptReply>;
  imClaimRelease(key: string, token: string): Promise<number>;
  /** The batched forms (lua-many): numberOfKeys, keys, args per key, then each key's args. */
  imClaimMany(...args: (string | number)[]): Promise<(ScriptReply | Error)[]>;
  imClaimCompleteMany(...args: (string | number)[]): Promise<(ScriptReply | Error)[]>;
}

export function defineClaimCommands(redis: Redis): ClaimCommands {
  redis.defineCommand('imClaim', { numberOfKeys: 1, lua: claimScript });
  redis.defineCommand('imClaimComplete', { numberOfKeys: 1, lua: completeScript });
  redis.defineCommand('imClaimRelease', { numberOfKeys: 1, lua: releaseScript });
  redis.defineCommand('imClaimMany', { lua: manyScript(claimScript) }); // number of keys given per call
  redis.defineCommand('imClaimCompleteMany', { lua: manyScript(completeScript) });
  return redis as unknown as ClaimCommands;
}
