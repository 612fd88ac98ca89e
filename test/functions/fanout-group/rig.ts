/**
 * The group test rig: a host serving route-group (+ fanout-group and mark-read's admin
 * API unless told otherwise) on loopback with its own topics, consumer group, Redis key
 * prefix and registry prefix (random names per rig, so concurrent runs never collide),
 * real gateway servers, devices registered in etcd in bulk (one transaction per 128
 * devices on one lease), groups seeded with multi-row INSERTs, an IMService client, an
 * admin HTTP client, and probes of the group log and the offline_push topic.
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { JwtAuth } from '../../../shared/auth/jwt';
import { decodeEvent } from '../../../shared/bus/codec';
import { createKafka } from '../../../shared/bus/kafka';
import type { ImError } from '../../../shared/errors';
import { fromGrpcError } from '../../../shared/errors/grpc';
import type { OfflinePushTask } from '../../../shared/gen/im/events/v1/events';
import { IMServiceClient, type RouteGroupMessageRequest, type RouteGroupMessageResponse } from '../../../shared/gen/im/v1/im';
import { createEtcd, RegistryKeys, type Etcd3 } from '../../../shared/registry';
import { encodeRecord } from '../../../shared/registry/record';
import type { Host } from '../../../shared/runtime/host';
import type { FunctionDefinition } from '../../../shared/runtime/types';
import { createMysqlPool, type Pool } from '../../../shared/storage/mysql';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { fanoutGroup } from '../../../functions/fanout-group/function';
import { markRead } from '../../../functions/mark-read/function';
import { routeGroup } from '../../../functions/route-group/function';
import { startTestHost, testConfig, testLogger, uid } from '../../support/env';
import { TestGateway } from '../../support/gateway-server';

export interface DeviceSpec {
  readonly userId: string;
  readonly deviceId: string;
  readonly gateway: TestGateway;
}

export interface GroupRig {
  readonly run: string;
  readonly env: Record<string, string>;
  readonly host: Host;
  readonly mysql: Pool;
  readonly admin: Admin;
  readonly kafka: Kafka;
  readonly etcd: Etcd3;
  readonly topics: { groupMsg: string; membership: string; push: string; dlq: string };
  readonly consumerGroup: string;
  /** `${run}-${name}`: ids of this rig. */
  id(name: string): string;
  gateways(n: number): Promise<TestGateway[]>;
  /** Registers devices in etcd in bulk (transactions of 128 puts on one lease). */
  register(devices: readonly DeviceSpec[]): Promise<void>;
  /** Inserts a group and its members directly (multi-row INSERTs, no events, no read positions). */
  seedGroup(groupId: string, members: readonly string[]): Promise<void>;
  send(req: Partial<RouteGroupMessageRequest>, deadlineMs?: number): Promise<RouteGroupMessageResponse>;
  sendError(req: Partial<RouteGroupMessageRequest>, deadlineMs?: number): Promise<ImError>;
  /** An admin API call on the rig's host; resolves with status and JSON body. */
  adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  logRows(groupId: string): Promise<{ msgId: string; sequenceNumber: number }[]>;
  readPosition(userId: string, groupId: string): Promise<number | undefined>;
  /** Tasks on the rig's offline_push topic so far (a reader starts on first use). */
  pushTasks(): Promise<OfflinePushTask[]>;
  stop(): Promise<void>;
}

let counter = 0;
export const msgId = (): string => `gm-${process.pid}-${Date.now()}-${++counter}`;

export async function startGroupRig(
  overrides: Record<string, string> = {},
  functions: readonly FunctionDefinition[] = [routeGroup, fanoutGroup, markRead],
): Promise<GroupRig> {
  const run = uid('rg');
  const topics = { groupMsg: `t-gmsg-${run}`, membership: `t-mchg-${run}`, push: `t-push-${run}`, dlq: `t-dlq-${run}` };
  const consumerGroup = `fanout-${run}`;
  const env: Record<string, string> = {
    REDIS_KEY_PREFIX: `${run}:`,
    REGISTRY_PREFIX: `/im-test/${run}/`,
    KAFKA_TOPIC_GROUP_MSG: topics.groupMsg,
    KAFKA_TOPIC_MEMBERSHIP_CHANGE: topics.membership,
    KAFKA_TOPIC_OFFLINE_PUSH: topics.push,
    KAFKA_TOPIC_DEAD_LETTER: topics.dlq,
    FANOUT_CONSUMER_GROUP: consumerGroup,
    MEMBERSHIP_CONSUMER_GROUP_PREFIX: `mfeed-${run}`,
    KAFKA_CONSUMER_SESSION_TIMEOUT: '6s',
    KAFKA_PRODUCER_TIMEOUT: '5s',
    RETRY_TIMEOUT: '1s',
    GATEWAY_RETRY_BACKOFF: '10ms',
    FANOUT_FETCH_MAX_WAIT: '100ms',
    OFFLINE_WORKER_ENABLED: 'false',
    ...overrides,
  };
  const base = testConfig(env);
  const kafka = createKafka(base.kafka, testLogger(), `rig-${run}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: topics.groupMsg, numPartitions: 2, replicationFactor: 1 },
      { topic: topics.membership, numPartitions: 1, replicationFactor: 1 },
      { topic: topics.push, numPartitions: 1, replicationFactor: 1 },
      { topic: topics.dlq, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  const host = await startTestHost(functions, env);
  const client = host.grpcPort ? new IMServiceClient(`127.0.0.1:${host.grpcPort}`, credentials.createInsecure()) : undefined;
  const mysql = createMysqlPool({ ...base.db, maxOpenConns: 4 });
  const redis: Redis = createRedis(base.redis, { keyPrefix: '' });
  const etcd = createEtcd(base.etcd);
  const keys = new RegistryKeys(env['REGISTRY_PREFIX'] as string);
  const auth = new JwtAuth(base.auth);
  const adminToken = await auth.sign('rig-admin', { admin: true });
  const gateways: TestGateway[] = [];
  const groups = new Set<string>();
  const tasks: OfflinePushTask[] = [];
  let reader: Consumer | undefined;

  const request = (req: Partial<RouteGroupMessageRequest>): RouteGroupMessageRequest => ({
    msgId: msgId(),
    senderId: '',
    groupId: '',
    content: 'hello group',
    timestamp: Date.now(),
    metadata: {},
    ...req,
  });

  const rig: GroupRig = {
    run,
    env,
    host,
    mysql,
    admin,
    kafka,
    etcd,
    topics,
    consumerGroup,
    id: (name) => `${run}-${name}`,
    async gateways(n) {
      const started = await Promise.all(Array.from({ length: n }, () => TestGateway.start()));
      gateways.push(...started);
      return started;
    },
    async register(devices) {
      const lease = etcd.lease(60, { autoKeepAlive: false });
      const leaseId = await lease.grant();
      for (let i = 0; i < devices.length; i += 128) {
        const part = devices.slice(i, i + 128);
        await etcd.kv.txn({
          success: part.map((d) => ({
            request_put: {
              key: Buffer.from(keys.deviceKey(d.userId, d.deviceId)),
              value: encodeRecord({ gatewayAddress: d.gateway.address, registeredAt: Date.now() }),
              lease: leaseId,
            },
          })),
        });
      }
    },
    async seedGroup(groupId, members) {
      groups.add(groupId);
      const now = Date.now();
      await mysql.query(
        'INSERT INTO `groups` (group_id, name, creator_id, member_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [groupId, 'seeded', members[0] ?? 'nobody', members.length, now, now],
      );
      for (let i = 0; i < members.length; i += 2000) {
        const part = members.slice(i, i + 2000);
        await mysql.query('INSERT INTO group_members (group_id, user_id, role, joined_at) VALUES ?', [
          part.map((u) => [groupId, u, 'member', now]),
        ]);
      }
    },
    send(req, deadlineMs = 10_000) {
      if (!client) throw new Error('this rig serves no gRPC');
      return new Promise((resolve, reject) =>
        client.routeGroupMessage(
          request(req),
          new Metadata(),
          { deadline: new Date(Date.now() + deadlineMs) },
          (err: ServiceError | null, res: RouteGroupMessageResponse) => (err ? reject(err) : resolve(res)),
        ),
      );
    },
    async sendError(req, deadlineMs) {
      const res = await rig.send(req, deadlineMs).then(
        (ok) => ok,
        (err: unknown) => err,
      );
      if (!(res instanceof Error)) throw new Error(`expected an error, got ${JSON.stringify(res)}`);
      return fromGrpcError(res as ServiceError);
    },
    async adminCall(method, path, body) {
      const m = /^\/admin\/v1\/groups\/([^/]+)/.exec(path);
      if (m?.[1]) groups.add(decodeURIComponent(m[1]));
      if (method === 'POST' && path === '/admin/v1/groups') groups.add(String((body as { group_id: string }).group_id));
      const res = await fetch(`http://127.0.0.1:${host.httpPort}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async logRows(groupId) {
      const [rows] = await mysql.query<RowDataPacket[]>(
        'SELECT msg_id, sequence_number FROM group_messages WHERE group_id = ? ORDER BY sequence_number',
        [groupId],
      );
      return rows.map((r) => ({ msgId: String(r['msg_id']), sequenceNumber: Number(r['sequence_number']) }));
    },
    async readPosition(userId, groupId) {
      const [rows] = await mysql.query<RowDataPacket[]>(
        'SELECT read_seq FROM group_read_positions WHERE user_id = ? AND group_id = ?',
        [userId, groupId],
      );
      return rows[0] ? Number(rows[0]['read_seq']) : undefined;
    },
    async pushTasks() {
      if (!reader) {
        reader = kafka.consumer({ groupId: `reader-${run}`, maxWaitTimeInMs: 100 });
        await reader.connect();
        await reader.subscribe({ topic: topics.push, fromBeginning: true });
        await reader.run({
          eachMessage: async ({ message }) => {
            tasks.push(decodeEvent('im.events.v1.OfflinePushTask', message.value, message.headers));
          },
        });
      }
      return [...tasks];
    },
    async stop() {
      client?.close();
      await reader?.disconnect().catch(() => undefined);
      await host.stop();
      await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.deleteGroups([consumerGroup, `reader-${run}`]).catch(() => undefined);
      await admin.disconnect();
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000);
        cursor = next;
        if (batch.length > 0) await redis.del(...batch);
      } while (cursor !== '0');
      await etcd.delete().prefix(env['REGISTRY_PREFIX'] as string).catch(() => undefined);
      for (const g of groups) {
        await mysql.query('DELETE FROM group_members WHERE group_id = ?', [g]);
        await mysql.query('DELETE FROM `groups` WHERE group_id = ?', [g]);
        await mysql.query('DELETE FROM group_messages WHERE group_id = ?', [g]);
        await mysql.query('DELETE FROM group_read_positions WHERE group_id = ?', [g]);
        await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id = ?', [`g:${g}`]);
      }
      await mysql.end();
      redis.disconnect();
      etcd.close();
    },
  };
  return rig;
}
