/**
 * How Dependencies builds each client: one small kit per client, so a function's bundle
 * can carry only the kits its `needs` lists (build.mjs swaps ./index for such a subset;
 * type-only imports here cost nothing in a bundle).
 */
import type { Config } from '../../config';
import type { Logger } from '../../observability/logger';
import type { Pool } from '../../storage/mysql';
import type { Redis } from '../../storage/redis';
import type { Etcd3 } from '../../registry/etcd';
import type { Kafka } from '../../bus/kafka';
import type { EventProducer } from '../../bus/producer';

export interface MysqlKit {
  create(db: Config['db']): Pool;
  ping(pool: Pool): Promise<void>;
}

export interface RedisKit {
  create(redis: Config['redis']): Redis;
  ping(redis: Redis): Promise<void>;
}

export interface EtcdKit {
  create(etcd: Config['etcd']): Etcd3;
  ping(etcd: Etcd3, timeoutMs: number): Promise<void>;
}

export interface KafkaKit {
  create(kafka: Config['kafka'], logger: Logger): Kafka;
  producer(kafka: Kafka): EventProducer;
}

/** The kits present in this build; a missing one is a client the bundle does not carry. */
export interface ClientKits {
  readonly mysql?: MysqlKit;
  readonly redis?: RedisKit;
  readonly etcd?: EtcdKit;
  readonly kafka?: KafkaKit;
}
