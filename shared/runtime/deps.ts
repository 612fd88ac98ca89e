/**
 * The clients a host builds once per cold start and hands to its functions: MySQL,
 * Redis, etcd, Kafka. Each is created on first use, answers a bounded health check
 * for /ready, and is closed once on shutdown.
 */
import type { Config } from '../config';
import type { Logger } from '../observability/logger';
import type { Pool } from '../storage/mysql';
import type { Redis } from '../storage/redis';
import type { Etcd3 } from '../registry/etcd';
import type { Kafka, Admin } from '../bus/kafka';
import type { EventProducer } from '../bus/producer';
import { CLIENT_KITS, type ClientKits } from './clients';
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

  /** `kits`: how clients are built; a function's bundle carries only those it needs. */
  constructor(
    readonly config: Config,
    private readonly logger: Logger,
    private readonly kits: ClientKits = CLIENT_KITS,
  ) {}

  #kit<N extends DependencyName>(name: N): NonNullable<ClientKits[N]> {
    const kit = this.kits[name];
    if (!kit) throw new Error(`the ${name} client is not in this bundle: list '${name}' in the function's needs`);
    return kit as NonNullable<ClientKits[N]>;
  }

  mysql(): Pool {
    return (this.#mysql ??= this.#kit('mysql').create(this.config.db));
  }

  redis(): Redis {
    if (!this.#redis) {
      this.#redis = this.#kit('redis').create(this.config.redis);
      this.#redis.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis error'));
    }
    return this.#redis;
  }

  etcd(): Etcd3 {
    return (this.#etcd ??= this.#kit('etcd').create(this.config.etcd));
  }

  kafka(): Kafka {
    return (this.#kafka ??= this.#kit('kafka').create(this.config.kafka, this.logger));
  }

  /** One producer per process, shared by every function in it. */
  producer(): EventProducer {
    return (this.#producer ??= this.#kit('kafka').producer(this.kafka()));
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
          ? this.#kit('mysql').ping(this.mysql())
          : name === 'redis'
            ? this.#kit('redis').ping(this.redis())
            : name === 'etcd'
              ? this.#kit('etcd').ping(this.etcd(), CHECK_TIMEOUT_MS)
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
