/**
 * Admin API for groups (admin tokens only), so local use and tests need no user
 * service: create a group, add and remove members. Each call writes `groups` /
 * `group_members` (and new members' read positions) in one transaction, then publishes
 * membership_change so routers drop their cached answers; a removal therefore applies
 * to the sender's next message once the event is through (docs/groups.md).
 *
 * Every call is idempotent: repeating it changes nothing more and publishes its events
 * again, so a call that failed after the commit (KAFKA_ERROR) is simply retried.
 *
 *   POST   /admin/v1/groups                              {group_id, creator_id, name?, members?}
 *   GET    /admin/v1/groups/{group_id}
 *   POST   /admin/v1/groups/{group_id}/members           {user_ids, role?}
 *   DELETE /admin/v1/groups/{group_id}/members/{user_id}
 */
import { Router, type Request } from 'express';
import type { JwtAuth } from '../../shared/auth/jwt';
import type { Config } from '../../shared/config';
import type { EventProducer } from '../../shared/bus/producer';
import { ImError } from '../../shared/errors';
import type { MembershipChange } from '../../shared/gen/im/events/v1/events';
import { GroupStore, MEMBER_ROLES, MembershipPublisher, membershipChange, type GroupInfo, type MemberRole } from '../../shared/groups';
import { compile } from '../../shared/http/validate';
import type { Pool } from '../../shared/storage/mysql';

const ID = '^[A-Za-z0-9_.:@-]{1,128}$';
const ID_PATTERN = new RegExp(ID);
/** Members per call: one transaction stays short, one request body stays small. */
export const MAX_MEMBERS_PER_CALL = 1000;

interface CreateGroupBody {
  group_id: string;
  creator_id: string;
  name?: string;
  members?: string[];
}

interface AddMembersBody {
  user_ids: string[];
  role?: MemberRole;
}

const userIds = { type: 'array', items: { type: 'string', pattern: ID }, maxItems: MAX_MEMBERS_PER_CALL } as const;

const parseCreate = compile<CreateGroupBody>({
  type: 'object',
  properties: {
    group_id: { type: 'string', pattern: ID },
    creator_id: { type: 'string', pattern: ID },
    name: { type: 'string', maxLength: 255 },
    members: userIds,
  },
  required: ['group_id', 'creator_id'],
  additionalProperties: false,
});

const parseAdd = compile<AddMembersBody>({
  type: 'object',
  properties: {
    user_ids: { ...userIds, minItems: 1 },
    role: { type: 'string', enum: [...MEMBER_ROLES] },
  },
  required: ['user_ids'],
  additionalProperties: false,
});

function pathId(req: Request, name: 'groupId' | 'userId'): string {
  const value = req.params[name];
  const field = name === 'groupId' ? 'group_id' : 'user_id';
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new ImError('INVALID_ARGUMENT', `${field} must be 1-128 characters of A-Z a-z 0-9 _ . : @ -`, { details: { field } });
  }
  return value;
}

const view = (g: GroupInfo) => ({
  group_id: g.groupId,
  name: g.name,
  creator_id: g.creatorId,
  member_count: g.memberCount,
  created_at: g.createdAt,
});

export interface AdminGroupsDeps {
  readonly auth: JwtAuth;
  readonly pool: Pool;
  readonly producer: Pick<EventProducer, 'send'>;
  readonly config: Config;
  readonly clock?: () => number;
}

export function adminGroupsRouter(deps: AdminGroupsDeps): Router {
  const clock = deps.clock ?? Date.now;
  const store = new GroupStore(deps.pool, clock);
  const events = new MembershipPublisher(
    deps.producer,
    deps.config.kafka.topics.membershipChange,
    deps.config.kafka.producerTimeoutMs,
  );
  const publish = (changes: MembershipChange[]) => events.publish(changes);
  const admin = deps.auth.middleware({ admin: true });
  const router = Router();

  router.post('/admin/v1/groups', admin, async (req, res) => {
    const body = parseCreate(req.body);
    const { group, created } = await store.create({ groupId: body.group_id, name: body.name ?? '', creatorId: body.creator_id });
    const members = (body.members ?? []).filter((u) => u !== group.creatorId);
    const added = await store.addMembers(group.groupId, members.map((userId) => ({ userId, role: 'member' as const })));
    const now = clock();
    await publish([
      membershipChange(group.groupId, 'group_created', now),
      membershipChange(group.groupId, 'member_added', now, { userId: group.creatorId, role: 'owner' }),
      ...members.map((userId) => membershipChange(group.groupId, 'member_added', now, { userId, role: 'member' })),
    ]);
    res.status(created ? 201 : 200).json({ ...view(group), member_count: added.memberCount, created });
  });

  router.get('/admin/v1/groups/:groupId', admin, async (req, res) => {
    const group = await store.get(pathId(req, 'groupId'));
    if (!group) throw new ImError('NOT_FOUND', 'no such group');
    res.json(view(group));
  });

  router.post('/admin/v1/groups/:groupId/members', admin, async (req, res) => {
    const groupId = pathId(req, 'groupId');
    const body = parseAdd(req.body);
    const role = body.role ?? 'member';
    const delta = await store.addMembers(groupId, body.user_ids.map((userId) => ({ userId, role })));
    const now = clock();
    await publish(body.user_ids.map((userId) => membershipChange(groupId, 'member_added', now, { userId, role })));
    res.json({ group_id: groupId, added: delta.changed, member_count: delta.memberCount });
  });

  router.delete('/admin/v1/groups/:groupId/members/:userId', admin, async (req, res) => {
    const groupId = pathId(req, 'groupId');
    const userId = pathId(req, 'userId');
    const delta = await store.removeMembers(groupId, [userId]);
    await publish([membershipChange(groupId, 'member_removed', clock(), { userId })]);
    res.json({ group_id: groupId, user_id: userId, removed: delta.changed.length > 0, member_count: delta.memberCount });
  });

  return router;
}
