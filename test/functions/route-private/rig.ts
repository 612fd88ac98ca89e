/**
 * The route-private test rig: a host serving route-private on loopback with its own
 * Redis key prefix, registry prefix and offline_msg topic (random names, so concurrent
 * runs never collide), real gateway servers registered in etcd through the registry's
 * gateway side, users in MySQL, an IMService client, and probes of what changed
 * (Redis keys under the prefix, topic offsets, reservation rows, records on the topic).
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { decodeEvent } from '../../../shared/bus/codec';
import { createKafka } from '../../../shared/bus/kafka';
import type { ImError } from '../../../shared/errors';
import { fromGrpcError } from '../../../shared/errors/grpc';
import type { OfflineMessage } from '../../../shared/gen/im/events/v1/events';
import {
  IMServiceClient,
  type GetMessageStatusResponse,
  type RoutePrivateMessageRequest,
  type RoutePrivateMessageResponse,
} from '../../../shared/gen/im/v1/im';
import { createEtcd, GatewayRegistration, type Etcd3 } from '../../../shared/registry';
import type { Host } from '../../../shared/runtime/host';
import { createMysqlPool, type Pool } from '../../../shared/storage/mysql';
import { createRedis, type Redis } from '../../../shared/storage/redis';
import { UserStore } from '../../../shared/storage/users';
import { routePrivate } from '../../../functions/route-private/function';
import { startTestHost, testConfig, testLogger, uid } from '../../support/env';
import { TestGateway } from '../../support/gateway-server';

export interface Rig {
  readonly run: string;
  readonly env: Record<string, string>;
  readonly host: Host;
  readonly client: IMServiceClient;
  readonly redis: Redis;
  readonly mysql: Pool;
  readonly admin: Admin;
  readonly kafka: Kafka;
  readonly etcd: Etcd3;
  readonly topic: string;
  /** A user that exists in MySQL (id starts with the run id). */
  user(name: string): Promise<string>;
  /** Starts a gateway server and registers `devices` of `userId` on it in etcd. */
  gateway(userId: string, devices: string[]): Promise<{ gw: TestGateway; reg: GatewayRegistration }>;
  send(req: Partial<RoutePrivateMessageRequest>, deadlineMs?: number): Promise<RoutePrivateMessageResponse>;
  /** The call's error as the product's ImError (fails the test if the call succeeds). */
  sendError(req: Partial<RoutePrivateMessageRequest>, deadlineMs?: number): Promise<ImError>;
  status(msgId: string): Promise<GetMessageStatusResponse>;
  statusError(msgId: string): Promise<ImError>;
  /** Keys under the rig's Redis prefix. */
  redisKeys(): Promise<string[]>;
  /** Records on the rig's topic (sum of high watermarks). */
  topicCount(): Promise<number>;
  /** Reservation rows of conversations involving the run's users. */
  reservationRows(): Promise<number>;
  /** Decoded records on the topic so far (read by a consumer started on first use). */
  records(): Promise<OfflineMessage[]>;
  stop(): Promise<void>;
}

let msgCounter = 0;
export const msgId = (): string => `m-${process.pid}-${Date.now()}-${++msgCounter}`;

export async function startRig(overrides: Record<string, string> = {}): Promise<Rig> {
  const run = uid('rp');
  const topic = `test-offline-${run}`;
  const env: Record<string, string> = {
    REDIS_KEY_PREFIX: `${run}:`,
    REGISTRY_PREFIX: `/im-test/${run}/`,
    KAFKA_TOPIC_OFFLINE_MSG: topic,
    RETRY_TIMEOUT: '500ms',
    GATEWAY_RETRY_BACKOFF: '10ms',
    KAFKA_PRODUCER_TIMEOUT: '5s',
    ...overrides,
  };
  const base = testConfig(env);
  const kafka = createKafka({ ...base.kafka, brokers: testConfig().kafka.brokers }, testLogger(), `rig-${run}`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
  const host = await startTestHost([routePrivate], env);
  const client = new IMServiceClient(`127.0.0.1:${host.grpcPort}`, credentials.createInsecure());
  const redis = createRedis(base.redis, { keyPrefix: '' });
  const mysql = createMysqlPool({ ...base.db, maxOpenConns: 2 });
  const users = new UserStore(mysql);
  const etcd = createEtcd(base.etcd);
  const gateways: TestGateway[] = [];
  const registrations: GatewayRegistration[] = [];
  const seen: OfflineMessage[] = [];
  let consumer: Consumer | undefined;

  const call = <Res>(fn: (cb: (err: ServiceError | null, res: Res) => void, deadline: Date) => void, deadlineMs: number) =>
    new Promise<Res>((resolve, reject) =>
      fn((err, res) => (err ? reject(err) : resolve(res)), new Date(Date.now() + deadlineMs)),
    );
  const request = (req: Partial<RoutePrivateMessageRequest>): RoutePrivateMessageRequest => ({
    msgId: msgId(),
    senderId: '',
    recipientId: '',
    content: 'hello',
    timestamp: Date.now(),
    metadata: {},
    ...req,
  });
  const asImError = (err: unknown): ImError => fromGrpcError(err as ServiceError);

  const rig: Rig = {
    run,
    env,
    host,
    client,
    redis,
    mysql,
    admin,
    kafka,
    etcd,
    topic,
    async user(name) {
      const id = `${run}-${name}`;
      await users.upsert(id, name);
      return id;
    },
    async gateway(userId, devices) {
      const gw = await TestGateway.start();
      const reg = new GatewayRegistration({
        etcd,
        config: { prefix: env['REGISTRY_PREFIX'] as string, ttlMs: 10_000, keepaliveIntervalMs: 2_000, maxDevicesPerUser: 5 },
        gatewayAddress: gw.address,
      });
      for (const d of devices) await reg.register(userId, d);
      gateways.push(gw);
      registrations.push(reg);
      return { gw, reg };
    },
    send(req, deadlineMs = 5000) {
      return call<RoutePrivateMessageResponse>(
        (cb, deadline) => client.routePrivateMessage(request(req), new Metadata(), { deadline }, cb),
        deadlineMs,
      );
    },
    async sendError(req, deadlineMs) {
      const res = await rig.send(req, deadlineMs).then(
        (ok) => ok,
        (err: unknown) => err,
      );
      if (!(res instanceof Error)) throw new Error(`expected an error, got ${JSON.stringify(res)}`);
      return asImError(res);
    },
    status(id) {
      return call<GetMessageStatusResponse>((cb) => client.getMessageStatus({ msgId: id }, cb), 5000);
    },
    async statusError(id) {
      const res = await rig.status(id).then(
        (ok) => ok,
        (err: unknown) => err,
      );
      if (!(res instanceof Error)) throw new Error(`expected an error, got ${JSON.stringify(res)}`);
      return asImError(res);
    },
    async redisKeys() {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${run}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys.sort();
    },
    async topicCount() {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    },
    async reservationRows() {
      const [rows] = await mysql.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM sequence_reservations WHERE conversation_id LIKE ?',
        [`%${run}%`],
      );
      return Number(rows[0]?.['n'] ?? 0);
    },
    async records() {
      if (!consumer) {
        consumer = kafka.consumer({ groupId: `reader-${run}`, maxWaitTimeInMs: 50 });
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(decodeEvent('im.events.v1.OfflineMessage', message.value, message.headers));
          },
        });
      }
      return [...seen];
    },
    async stop() {
      client.close();
      await consumer?.disconnect().catch(() => undefined);
      await Promise.all(registrations.map((r) => r.close().catch(() => undefined)));
      await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
      await host.stop();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
      const keys = await rig.redisKeys();
      if (keys.length > 0) await redis.del(...keys);
      await etcd.delete().prefix(env['REGISTRY_PREFIX'] as string).catch(() => undefined);
      await mysql.query('DELETE FROM sequence_reservations WHERE conversation_id LIKE ?', [`%${run}%`]);
      await mysql.query('DELETE FROM users WHERE user_id LIKE ?', [`${run}-%`]);
      await mysql.end();
      redis.disconnect();
      etcd.close();
    },
  };
  return rig;
}
