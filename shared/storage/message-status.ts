/**
 * A message's delivery status for GetMessageStatus, in Redis: one hash per msg_id
 * (RedisKeys.messageStatus) with `status`, `delivered_at`, `read_at` and
 * `delivered_devices` (JSON array), living MESSAGE_TTL from its first write.
 * route-private records delivery, mark-read records reads, GDPR delete removes it.
 *
 * Writers race (a read receipt can land before the router records delivery), so a
 * status only moves forward — pending < failed < delivered < read — and each instant is
 * set once (the first delivery, the first read). One Lua script makes that atomic.
 * With `batchPerTurn` (a busy router), the updates of one event-loop turn go to Redis as
 * one call of the same script run key by key (lua-many).
 */
import { TurnBatcher } from '../runtime/turn-batch';
import { manyArgs, manyScript } from './lua-many';
import type { Redis } from './redis';
import { RedisKeys } from './redis-keys';

export const MESSAGE_STATUSES = ['pending', 'failed', 'delivered', 'read'] as const;
export type MessageStatusValue = (typeof MESSAGE_STATUSES)[number];

export interface MessageStatus {
  readonly status: MessageStatusValue;
  /** ms; 0 when not delivered (yet). */
  readonly deliveredAt: number;
  /** ms; 0 when not read (yet). */
  readonly readAt: number;
  readonly deliveredDevices: readonly string[];
}

const statusScript = `
--[[
  status-1: moves a message's status forward, never back, and sets each instant once.

  KEYS[1]  status hash (RedisKeys.messageStatus)
  ARGV[1]  new status: pending | failed | delivered | read
  ARGV[2]  instant in ms for delivered_at (delivered) or read_at (read); '' for none
  ARGV[3]  TTL in ms, applied when the key has none yet
  ARGV[4]  JSON array of device ids to add to delivered_devices ('[]' for none)

  Returns the status stored after the call.
]]
local rank = { pending = 0, failed = 1, delivered = 2, read = 3 }
local new = ARGV[1]
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur or (rank[cur] or -1) < rank[new] then
  redis.call('HSET', KEYS[1], 'status', new)
  cur = new
end
if ARGV[2] ~= '' then
  if new == 'delivered' then redis.call('HSETNX', KEYS[1], 'delivered_at', ARGV[2]) end
  if new == 'read' then redis.call('HSETNX', KEYS[1], 'read_at', ARGV[2]) end
end
local add = cjson.decode(ARGV[4])
if #add > 0 then
  local raw = redis.call('HGET', KEYS[1], 'delivered_devices')
  local list = raw and cjson.decode(raw) or {}
  local seen = {}
  for _, d in ipairs(list) do seen[d] = true end
  for _, d in ipairs(add) do
    if not seen[d] then table.insert(list, d); seen[d] = true end
  end
  redis.call('HSET', KEYS[1], 'delivered_devices', cjson.encode(list))
end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return cur
`;

interface StatusCommands {
  imMessageStatus(key: string, status: MessageStatusValue, at: string, ttlMs: number, devices: string): Promise<string>;
  imMessageStatusMany(...args: (string | number)[]): Promise<(string | Error)[]>;
}

interface KeyCall {
  readonly key: string;
  readonly args: readonly (string | number)[];
}

export class MessageStatusStore {
  readonly #cmd: StatusCommands;
  readonly #batch: TurnBatcher<KeyCall, string> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    opts: { readonly batchPerTurn?: boolean } = {},
  ) {
    redis.defineCommand('imMessageStatus', { numberOfKeys: 1, lua: statusScript });
    redis.defineCommand('imMessageStatusMany', { lua: manyScript(statusScript) }); // number of keys given per call
    this.#cmd = redis as unknown as StatusCommands;
    if (opts.batchPerTurn) {
      this.#batch = new TurnBatcher((calls) => this.#cmd.imMessageStatusMany(calls.length, ...manyArgs(calls)));
    }
  }

  async get(msgId: string): Promise<MessageStatus | undefined> {
    const h = await this.redis.hgetall(RedisKeys.messageStatus(msgId));
    const status = h['status'];
    if (!status || !(MESSAGE_STATUSES as readonly string[]).includes(status)) return undefined;
    return {
      status: status as MessageStatusValue,
      deliveredAt: Number(h['delivered_at'] ?? 0) || 0,
      readAt: Number(h['read_at'] ?? 0) || 0,
      deliveredDevices: parseDevices(h['delivered_devices']),
    };
  }

  /** Routed, not delivered yet (creates the record; never moves a status back). */
  markPending(msgId: string): Promise<MessageStatusValue> {
    return this.#update(msgId, 'pending', undefined, []);
  }

  markFailed(msgId: string): Promise<MessageStatusValue> {
    return this.#update(msgId, 'failed', undefined, []);
  }

  /** Delivered to `devices` at `at` (the first delivery's instant is kept). */
  markDelivered(msgId: string, devices: readonly string[], at: number): Promise<MessageStatusValue> {
    return this.#update(msgId, 'delivered', at, devices);
  }

  /** Read at `at` (the first read's instant is kept). */
  markRead(msgId: string, at: number): Promise<MessageStatusValue> {
    return this.#update(msgId, 'read', at, []);
  }

  /** Marks many messages read in one round trip. */
  async markManyRead(msgIds: readonly string[], at: number): Promise<void> {
    if (msgIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of msgIds) {
      (pipeline as unknown as StatusCommands).imMessageStatus(RedisKeys.messageStatus(id), 'read', String(at), this.ttlMs, '[]');
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0] as Error;
  }

  /** Removes the record; 1 if there was one. */
  delete(msgId: string): Promise<number> {
    return this.redis.del(RedisKeys.messageStatus(msgId));
  }

  async #update(
    msgId: string,
    status: MessageStatusValue,
    at: number | undefined,
    devices: readonly string[],
  ): Promise<MessageStatusValue> {
    const key = RedisKeys.messageStatus(msgId);
    const ttl = Math.max(1, Math.trunc(this.ttlMs));
    const instant = at === undefined ? '' : String(at);
    const added = devices.length === 0 ? '[]' : JSON.stringify(devices);
    const stored = this.#batch
      ? await this.#batch.add({ key, args: [status, instant, ttl, added] })
      : await this.#cmd.imMessageStatus(key, status, instant, ttl, added);
    return stored as MessageStatusValue;
  }
}

function parseDevices(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return [];
  }
}
