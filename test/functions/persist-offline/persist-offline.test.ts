/**
 * persist-offline in a host against real Kafka and MariaDB, on topics, a consumer group
 * and a database of its own: poison records are dead-lettered with their origin while
 * the partition keeps moving; push tasks follow the writes; two consumers share the
 * partitions and a member leaving mid-run loses and doubles nothing; a database outage
 * (a cut TCP proxy in front of MariaDB, PO_OUTAGE_MS, 20 s by default) dead-letters
 * nothing, loses nothing, and the consumer catches up.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { persistOffline } from '../../../functions/persist-offline/function';
import { createKafka } from '../../../shared/bus/kafka';
import { SCHEMA_HEADER, decodeEvent, encodeEvent } from '../../../shared/bus/codec';
import type { Host } from '../../../shared/runtime/host';
import { eventually, startTestHost, testConfig, testLogger, uid } from '../../support/env';
import {
  CuttableProxy,
  createScratchDb,
  createTopics,
  groupLag,
  offlineEvent,
  offlineRecord,
  produceOffline,
  rand,
  readTopic,
  type ScratchDb,
} from './support';

const OUTAGE_MS = Number(process.env['PO_OUTAGE_MS'] ?? 20_000);

const config = testConfig();

interface Setup {
  topic: string;
  dlq: string;
  push: string;
  group: string;
  db: ScratchDb;
  env: Record<string, string>;
}

describe('persist-offline (real Kafka and MariaDB)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const topics: string[] = [];
  const dbs: ScratchDb[] = [];
  const hosts: Host[] = [];

  beforeAll(async () => {
    kafka = createKafka(config.kafka, testLogger(), uid('po-test'));
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
  });

  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await Promise.all(dbs.map((d) => d.drop()));
  });

  async function setup(partitions = 4, env: Record<string, string> = {}): Promise<Setup> {
    const id = rand();
    const s = { topic: `po-offline-${id}`, dlq: `po-dlq-${id}`, push: `po-push-${id}`, group: `po-group-${id}` };
    await createTopics(admin, [
      { topic: s.topic, partitions },
      { topic: s.dlq, partitions: 1 },
      { topic: s.push, partitions: 2 },
    ]);
    topics.push(s.topic, s.dlq, s.push);
    const db = await createScratchDb(config.db);
    dbs.push(db);
    return {
      ...s,
      db,
      env: {
        KAFKA_TOPIC_OFFLINE_MSG: s.topic,
        KAFKA_TOPIC_DEAD_LETTER: s.dlq,
        KAFKA_TOPIC_OFFLINE_PUSH: s.push,
        KAFKA_CONSUMER_GROUP: s.group,
        KAFKA_CLIENT_ID: `po-${id}`,
        DB_NAME: db.name,
        BATCH_TIMEOUT: '100ms',
        KAFKA_CONSUMER_SESSION_TIMEOUT: '6s',
        RETRY_BACKOFF: '100ms,200ms,400ms',
        MAX_RETRIES: '3',
        ...env,
      },
    };
  }

  async function host(env: Record<string, string>): Promise<Host> {
    const h = await startTestHost([persistOffline], env);
    hosts.push(h);
    return h;
  }

  const workerStats = (h: Host) =>
    (h.stats()['workers'] as Record<string, Record<string, unknown>>)['persist-offline'] as Record<string, unknown>;

  it('dead-letters malformed records with their origin, stores the good ones and keeps the partition moving', async () => {
    const s = await setup(2);
    const run = rand();
    const good = Array.from({ length: 40 }, (_, i) => offlineRecord(offlineEvent(run, i, 10)));
    const tooLong = offlineEvent(run, 1000);
    tooLong.recipientId = 'x'.repeat(200);
    const bad = [
      { key: 'k-garbage', value: Buffer.from([0xff, 0xff, 0xff, 0x01]), headers: { [SCHEMA_HEADER]: 'im.events.v1.OfflineMessage' } },
      { key: 'k-noschema', value: encodeEvent('im.events.v1.OfflineMessage', offlineEvent(run, 1001)), headers: {} },
      { ...offlineRecord(tooLong), key: 'k-toolong' },
    ];
    // Good records before, between and after the bad ones, all in partition 1.
    await producer.send({ topic: s.topic, acks: -1, messages: good.slice(0, 10).map((m) => ({ ...m, partition: 1 })) });
    const origins: string[] = [];
    for (const [i, b] of bad.entries()) {
      const [meta] = await producer.send({ topic: s.topic, acks: -1, messages: [{ ...b, partition: 1 }] });
      origins.push(meta?.baseOffset ?? '');
      await producer.send({ topic: s.topic, acks: -1, messages: good.slice(10 + i * 5, 15 + i * 5).map((m) => ({ ...m, partition: 1 })) });
    }
    await producer.send({ topic: s.topic, acks: -1, messages: good.slice(25).map((m) => ({ ...m, partition: 0 })) });

    const h = await host(s.env);
    await eventually(async () => (await s.db.count()) === 40 && (await groupLag(admin, s.group, s.topic)) === 0, 20000, 100);

    const letters = await readTopic(kafka, s.dlq, (got) => got.length >= 3);
    expect(letters).toHaveLength(3);
    const decoded = letters.map((l) => decodeEvent('im.events.v1.DeadLetter', l.value, l.headers));
    expect(decoded.map((d) => d.offset)).toEqual(origins);
    for (const [i, d] of decoded.entries()) {
      expect(d).toMatchObject({
        topic: s.topic,
        partition: 1,
        errorCode: 'INVALID_PAYLOAD',
        consumerGroup: s.group,
        attempts: 1,
      });
      expect(d.key.toString()).toBe(bad[i]?.key);
      expect(Buffer.compare(d.value, bad[i]?.value as Buffer)).toBe(0);
      expect(letters[i]?.headers['im-dlq-offset']).toBe(origins[i]);
    }
    expect(decoded[2]?.errorMessage).toMatch(/recipient_id is longer than 128/);
    expect(decoded[0]?.headers[SCHEMA_HEADER]).toBe('im.events.v1.OfflineMessage');
    expect(workerStats(h)).toMatchObject({ deadLettered: 3, ready: true });
    const metrics = await h.metrics.registry.getSingleMetricAsString('im_service_dead_lettered_total');
    expect(metrics).toContain(`im_service_dead_lettered_total{topic="${s.topic}",code="INVALID_PAYLOAD"} 3`);
  });

  it('publishes one OFFLINE_PUSH task per recipient per batch covering every stored message, and reports ready', async () => {
    const s = await setup(2);
    const run = rand();
    await produceOffline(producer, s.topic, run, 300, { users: 12 });
    const h = await host(s.env);
    await eventually(async () => (await s.db.count()) === 300 && (await groupLag(admin, s.group, s.topic)) === 0, 20000, 100);

    const res = await fetch(`http://127.0.0.1:${h.httpPort}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ workers: { 'persist-offline': 'running' } });

    const covered = new Map<string, Set<string>>();
    const tasks = await readTopic(kafka, s.push, (got) => {
      for (const t of got.splice(0)) {
        const task = decodeEvent('im.events.v1.OfflinePushTask', t.value, t.headers);
        expect(task.taskType).toBe('OFFLINE_PUSH');
        expect(t.key).toBe(task.userId);
        expect(task.messageCount).toBe(task.msgIds.length);
        const set = covered.get(task.userId) ?? new Set<string>();
        task.msgIds.forEach((m) => set.add(m));
        covered.set(task.userId, set);
      }
      return [...covered.values()].reduce((n, v) => n + v.size, 0) >= 300;
    });
    expect(tasks).toBeDefined();
    expect(covered.size).toBe(12);
    expect([...covered.values()].reduce((n, v) => n + v.size, 0)).toBe(300);
    expect(await h.metrics.registry.getSingleMetricAsString('im_service_offline_messages_stored_total')).toContain(
      'im_service_offline_messages_stored_total 300',
    );
  });

  it('shares the partitions between two consumers; one leaving mid-run loses and doubles nothing', async () => {
    const s = await setup(4);
    const run = rand();
    const total = 20_000;
    await produceOffline(producer, s.topic, run, total);
    const [a, b] = await Promise.all([host(s.env), host(s.env)]);
    await eventually(() => {
      const pa = workerStats(a as Host)['partitions'] as number[];
      const pb = workerStats(b as Host)['partitions'] as number[];
      return pa.length === 2 && pb.length === 2;
    }, 20000, 50);
    await eventually(async () => (await s.db.count()) > 2000, 20000, 20);
    const before = await s.db.count();
    await (b as Host).stop();
    expect(workerStats(b as Host)['ready']).toBe(false);
    await eventually(() => (workerStats(a as Host)['partitions'] as number[]).length === 4, 20000, 50);
    await eventually(async () => (await s.db.count()) === total && (await groupLag(admin, s.group, s.topic)) === 0, 40000, 200);
    const [rows] = await s.db.pool.query<({ n: number; d: number } & import('mysql2').RowDataPacket)[]>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT user_id, msg_id) AS d FROM offline_messages',
    );
    expect(rows[0]).toMatchObject({ n: total, d: total });
    expect(before).toBeLessThan(total);
  });

  it(`survives a ${OUTAGE_MS / 1000} s database outage: no dead letters, no loss, catches up`, async () => {
    const proxy = new CuttableProxy(config.db.host, config.db.port);
    await proxy.start();
    try {
      const s = await setup(4, { DB_HOST: '127.0.0.1', DB_PORT: String(proxy.port), DB_CONN_TIMEOUT: '2s' });
      const run = rand();
      await produceOffline(producer, s.topic, run, 5000);
      const h = await host(s.env);
      await eventually(async () => (await s.db.count()) >= 500, 20000, 10);
      proxy.cut();
      const cutAt = Date.now();
      await produceOffline(producer, s.topic, run, 5000, { from: 5000 });
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
      const during = workerStats(h);
      proxy.heal();
      await eventually(async () => (await s.db.count()) === 10_000 && (await groupLag(admin, s.group, s.topic)) === 0, 60000, 200);
      expect(during['retries']).toBeGreaterThan(0);
      if (OUTAGE_MS >= 5000) expect(during['pauses']).toBeGreaterThan(0);
      const [dlq] = await admin.fetchTopicOffsets(s.dlq);
      expect(dlq?.high).toBe('0');
      expect(workerStats(h)).toMatchObject({ deadLettered: 0, ready: true });
    } finally {
      await proxy.stop();
    }
  }, OUTAGE_MS + 90_000);
});
