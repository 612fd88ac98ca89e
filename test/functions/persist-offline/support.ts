/**
 * Helpers of the persist-offline tests and benchmark: topics and a database of their
 * own (random names, so concurrent runs never collide), OfflineMessage fixtures,
 * bulk produce, reading a topic back, committed-offset lag, and a TCP proxy in front of
 * MariaDB that a test can cut to simulate a database outage for its client only.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { SCHEMA_HEADER, encodeEvent } from '../../../shared/bus/codec';
import type { OfflineMessage } from '../../../shared/gen/im/events/v1/events';
import type { Config } from '../../../shared/config';
import { createMysqlPool, type Pool } from '../../../shared/storage/mysql';

export const rand = (n = 5): string => randomBytes(n).toString('hex');

export async function createTopics(admin: Admin, topics: { topic: string; partitions: number }[]): Promise<void> {
  await admin.createTopics({
    topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })),
    waitForLeaders: true,
  });
}

export interface ScratchDb {
  readonly name: string;
  readonly pool: Pool;
  count(): Promise<number>;
  drop(): Promise<void>;
}

/** A database holding only offline_messages, created LIKE the migrated im_chat table. */
export async function createScratchDb(db: Config['db'], prefix = 'im_test_po'): Promise<ScratchDb> {
  const name = `${prefix}_${rand()}`;
  const admin = createMysqlPool({ ...db, maxOpenConns: 1 });
  try {
    await admin.query(`CREATE DATABASE \`${name}\``);
    await admin.query(`CREATE TABLE \`${name}\`.offline_messages LIKE \`${db.name}\`.offline_messages`);
  } finally {
    await admin.end();
  }
  const pool = createMysqlPool({ ...db, maxOpenConns: 4 }, { database: name });
  return {
    name,
    pool,
    async count() {
      const [rows] = await pool.query<({ n: number } & import('mysql2').RowDataPacket)[]>(
        'SELECT COUNT(*) AS n FROM offline_messages',
      );
      return Number(rows[0]?.n ?? 0);
    },
    async drop() {
      await pool.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await pool.end();
    },
  };
}

/** The i-th message of a run: recipients spread over `users`, ids unique per run. */
export function offlineEvent(run: string, i: number, users = 1000): OfflineMessage {
  const recipient = `${run}-u${i % users}`;
  return {
    msgId: `${run}-m${i}`,
    senderId: `${run}-s${i % 7}`,
    recipientId: recipient,
    conversationType: 'private',
    conversationId: `p:${run}-s${i % 7}:${recipient}`,
    sequenceNumber: i + 1,
    content: { body: { $case: 'text', value: `message ${i} of ${run}` } },
    timestamp: 1_700_000_000_000 + i,
    serverTime: 1_700_000_000_000 + i,
    metadata: {},
    deliveredDevices: [],
  };
}

export const offlineRecord = (event: OfflineMessage) => ({
  key: event.recipientId,
  value: encodeEvent('im.events.v1.OfflineMessage', event),
  headers: { [SCHEMA_HEADER]: 'im.events.v1.OfflineMessage' },
});

/** Produces `count` offline messages in large acks=all sends (round-robin over `partitions` if given). */
export async function produceOffline(
  producer: Producer,
  topic: string,
  run: string,
  count: number,
  opts: { from?: number; users?: number; perSend?: number; partitions?: number } = {},
): Promise<void> {
  const from = opts.from ?? 0;
  const perSend = opts.perSend ?? 5000;
  for (let start = from; start < from + count; start += perSend) {
    const end = Math.min(start + perSend, from + count);
    const messages = [];
    for (let i = start; i < end; i++) {
      const record = offlineRecord(offlineEvent(run, i, opts.users));
      // Explicit partitions make "offset o of partition p" the message o·n + p.
      messages.push(opts.partitions ? { ...record, partition: i % opts.partitions } : record);
    }
    await producer.send({ topic, acks: -1, messages });
  }
}

/** Sum over partitions of high watermark minus the group's committed offset. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [high, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const c = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const));
  return high.reduce((sum, p) => {
    const at = c.get(p.partition) ?? -1;
    return sum + (Number(p.high) - (at < 0 ? Number(p.low) : at));
  }, 0);
}

export interface ReadRecord {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
}

/** Reads `topic` from the beginning until `until` holds (or times out). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  until: (got: ReadRecord[]) => boolean,
  timeoutMs = 15000,
): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: `reader-${rand()}`, maxWaitTimeInMs: 100 });
  const got: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      got.push({
        key: message.key?.toString() ?? null,
        value: message.value ?? Buffer.alloc(0),
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        partition,
      });
      if (until(got)) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return got;
}

/**
 * A TCP proxy to MariaDB. cut() destroys every open connection and refuses new ones
 * (the client sees resets, as when the server dies); heal() accepts again.
 */
export class CuttableProxy {
  #server: Server | undefined;
  #cut = false;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.#server = createServer((client) => {
      if (this.#cut) return client.destroy();
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }

  heal(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
