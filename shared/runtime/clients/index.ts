/**
 * Every client kit: what tests, the all-in-one local process and tools get. A function's
 * container bundle gets a generated replacement for this module holding only the kits
 * its FunctionDefinition `needs` (build.mjs), so e.g. cleanup-expired carries mysql2 but
 * not kafkajs, ioredis or etcd3.
 */
import { etcdKit } from './etcd';
import { kafkaKit } from './kafka';
import { mysqlKit } from './mysql';
import { redisKit } from './redis';
import type { ClientKits } from './types';

export type { ClientKits } from './types';

export const CLIENT_KITS: ClientKits = { mysql: mysqlKit, redis: redisKit, etcd: etcdKit, kafka: kafkaKit };
