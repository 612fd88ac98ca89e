/**
 * The clients a host builds once per cold start and hands to its functions: MySQL,
 * Redis, etcd, Kafka. Each is created on first use, answers a bounded health check
 * for /ready, and is closed once on shutdown.
 */
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import { createMysqlPool, pingMysql, type Pool } from '../storage/mysql';
import { createRedis, pingRedis, type Redis } from '../storage/redis';
import { createEtcd, pingEtcd, type Etcd3 } from '../registry/etcd';
import { createKafka, type Kafka, type Admin } from '../bus/kafka';
import { EventProducer } from '../bus/producer';
import { withTimeout } from './timeout';

export const DEPENDENCY_NAMES = ['mysql', 'redis', 'etcd', 'kafka'] as const;
export type DependencyName = (typeof DEPENDENCY_NAMES)[number];

export type DependencyStatus = { status: 'healthy' } | { status: 'unhealthy'; error: string };

const CHECK_TIMEOUT_MS = 2000;

export class Dependencies {
  #mysql?: Pool;
  #redis?: Redis;
  #etcd?: Etcd3;
  #kafka?: Kafka;
  #admin?: Promise<Admin>;
  #producer?: EventProducer;

  constructor(
    readonly config: Config,
    private readonly logger: Logger,
  ) {}

  mysql(): Pool {
    return (this.#mysql ??= createMysqlPool(this.config.db));
  }

  redis(): Redis {
    if (!this.#redis) {
      this.#redis = createRedis(this.config.redis);
      this.#redis.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis error'));
    }
    return this.#redis;
  }

  etcd(): Etcd3 {
    return (this.#etcd ??= createEtcd(this.config.etcd));
  }

  kafka(): Kafka {
    return (this.#kafka ??= createKafka(this.config.kafka, this.logger));
  }

  /** One producer per process, shared by every function in it. */
  producer(): EventProducer {
    return (this.#producer ??= new EventProducer(this.kafka()));
  }

  admin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.kafka().admin();
      await admin.connect();
      return admin;
    })().catch((err: unknown) => {
      this.#admin = undefined;
      throw err;
    });
    return this.#admin;
  }

  async check(name: DependencyName): Promise<DependencyStatus> {
    try {
      const work =
        name === 'mysql'
          ? pingMysql(this.mysql())
          : name === 'redis'
            ? pingRedis(this.redis())
            : name === 'etcd'
              ? pingEtcd(this.etcd(), CHECK_TIMEOUT_MS)
              : this.admin().then((a) => a.describeCluster());
      await withTimeout(Promise.resolve(work), CHECK_TIMEOUT_MS, `${name} check`);
      return { status: 'healthy' };
    } catch (err) {
      return { status: 'unhealthy', error: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    const steps: Promise<unknown>[] = [];
    if (this.#producer) steps.push(this.#producer.disconnect());
    if (this.#admin) steps.push(this.#admin.then((a) => a.disconnect()).catch(() => undefined));
    if (this.#mysql) steps.push(this.#mysql.end());
    if (this.#redis) steps.push(this.#redis.quit().catch(() => this.#redis?.disconnect()));
    if (this.#etcd) this.#etcd.close();
    const results = await Promise.allSettled(steps);
    for (const r of results) {
      if (r.status === 'rejected') this.logger.warn({ err: String(r.reason) }, 'error while closing a client');
    }
  }
}
