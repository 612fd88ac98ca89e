/**
 * The crash test: 50,000 offline messages (PO_CRASH_MESSAGES), persist-offline run as a
 * separate process (its own esbuild bundle of functions/persist-offline/index.ts), killed
 * with SIGKILL three times at random moments mid-run and restarted. After every kill the
 * group's committed offsets are checked against the table — every record below a
 * committed offset is stored (nothing committed that is not written). A final SIGTERM
 * mid-run must exit 0 within the grace period with the same invariant. In the end the
 * table holds exactly the 50,000 (msg_id, recipient) rows: none missing, none twice.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { RowDataPacket } from 'mysql2';
import { createKafka } from '../../../shared/bus/kafka';
import { eventually, testConfig, testLogger, uid } from '../../support/env';
import { createScratchDb, createTopics, groupLag, produceOffline, rand, type ScratchDb } from './support';
import { spawnBundle, type Life } from '../../support/child';

const TOTAL = Number(process.env['PO_CRASH_MESSAGES'] ?? 50_000);
const PARTITIONS = 4;
const KILLS = 3;
const root = join(__dirname, '../../..');
const config = testConfig();

describe('persist-offline crash test (separate process, kill -9)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let db: ScratchDb;
  let dir: string;
  const run = rand();
  const ids = { topic: `po-crash-${run}`, dlq: `po-crash-dlq-${run}`, push: `po-crash-push-${run}`, group: `po-crash-${run}` };
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'po-crash-'));
    kafka = createKafka(config.kafka, testLogger(), uid('po-crash'));
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    await createTopics(admin, [
      { topic: ids.topic, partitions: PARTITIONS },
      { topic: ids.dlq, partitions: 1 },
      { topic: ids.push, partitions: 1 },
    ]);
    const [, scratch] = await Promise.all([
      // A bundle of our own: `node build.mjs` by someone else must not pull it away mid-test.
      build({
        entryPoints: [join(root, 'functions/persist-offline/index.ts')],
        outfile: join(dir, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        logLevel: 'error',
        // etcd3 reads its protos beside its own file: leave it in node_modules (NODE_PATH).
        external: ['etcd3'],
      }),
      createScratchDb(config.db),
    ]);
    db = scratch;
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await producer.disconnect();
    await admin.deleteTopics({ topics: Object.values(ids).filter((t) => t !== ids.group) }).catch(() => undefined);
    await admin.deleteGroups([ids.group]).catch(() => undefined);
    await admin.disconnect();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function startConsumer(): Life {
    const life = spawnBundle(join(dir, 'index.js'), {
      ...process.env,
      NODE_PATH: join(root, 'node_modules'),
      KAFKA_TOPIC_OFFLINE_MSG: ids.topic,
      KAFKA_TOPIC_DEAD_LETTER: ids.dlq,
      KAFKA_TOPIC_OFFLINE_PUSH: ids.push,
      KAFKA_CONSUMER_GROUP: ids.group,
      KAFKA_CLIENT_ID: `po-crash-${run}`,
      DB_NAME: db.name,
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
      KAFKA_CONSUMER_SESSION_TIMEOUT: '6s',
      BATCH_TIMEOUT: '500ms',
      SHUTDOWN_TIMEOUT: '10s',
    });
    child = life.proc;
    return life;
  }

  async function storedIds(): Promise<Set<string>> {
    const [rows] = await db.pool.query<RowDataPacket[]>('SELECT msg_id FROM offline_messages');
    return new Set(rows.map((r) => String(r['msg_id'])));
  }

  /** Every record below its partition's committed offset is in the table. */
  async function expectCommittedWritten(): Promise<number> {
    const [committed] = await admin.fetchOffsets({ groupId: ids.group, topics: [ids.topic] });
    const stored = await storedIds();
    let covered = 0;
    for (const { partition, offset } of committed?.partitions ?? []) {
      for (let o = 0; o < Number(offset); o++) {
        const id = `${run}-m${o * PARTITIONS + partition}`;
        if (!stored.has(id)) throw new Error(`offset ${o} of partition ${partition} committed but ${id} not stored`);
        covered++;
      }
    }
    return covered;
  }

  it(`stores exactly ${TOTAL} rows through ${KILLS} kill -9 and a SIGTERM`, async () => {
    await produceOffline(producer, ids.topic, run, TOTAL, { partitions: PARTITIONS, users: 5000 });
    const log: string[] = [];

    for (let kill = 1; kill <= KILLS + 1; kill++) {
      // A killed life's last COMMIT may still land after its death: wait for the count to
      // settle, so new rows below can only be this life's (then its signal handlers are in).
      let atStart = await db.count();
      for (let prev = -1; prev !== atStart; ) {
        prev = atStart;
        await new Promise((r) => setTimeout(r, 300));
        atStart = await db.count();
      }
      const { proc, exited } = startConsumer();
      // A random moment once this life is writing: 0–600 ms after its first new rows.
      await eventually(async () => (await db.count()) > atStart, 30000, 20);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
      const signal = kill <= KILLS ? 'SIGKILL' : 'SIGTERM';
      const at = await db.count();
      const t0 = Date.now();
      proc.kill(signal);
      const result = await exited;
      if (signal === 'SIGTERM') {
        expect(result).toEqual({ code: 0, signal: null });
        expect(Date.now() - t0).toBeLessThan(10_000);
      } else {
        expect(result.signal).toBe('SIGKILL');
      }
      const committedRows = await expectCommittedWritten();
      log.push(`${signal} at ${at} rows (committed ${committedRows})`);
    }

    const { proc, exited } = startConsumer();
    await eventually(async () => (await groupLag(admin, ids.group, ids.topic)) === 0, 60000, 250);
    proc.kill('SIGTERM');
    expect((await exited).code).toBe(0);

    const [rows] = await db.pool.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT user_id, msg_id) AS d FROM offline_messages',
    );
    expect(Number(rows[0]?.['n'])).toBe(TOTAL);
    expect(Number(rows[0]?.['d'])).toBe(TOTAL);
    const stored = await storedIds();
    const missing = Array.from({ length: TOTAL }, (_, i) => `${run}-m${i}`).filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect((await admin.fetchTopicOffsets(ids.dlq))[0]?.high).toBe('0');
    process.stdout.write(`crash test: ${log.join('; ')}\n`);
  }, 180_000);
});
