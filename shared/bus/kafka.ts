/**
 * The kafkajs client, with its logs routed into ours. kafkajs 2.2.4 is the chosen
 * client (brief): it is tested by its authors against old brokers, so we rely only on
 * plain produce/consume/admin calls that Kafka 3.9 keeps compatible.
 */
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';

export type { Kafka, Producer, Consumer, Admin } from 'kafkajs';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(cfg: Config['kafka'], logger: Logger, clientId = cfg.clientId): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: cfg.brokers,
    connectionTimeout: 3000,
    requestTimeout: cfg.producerTimeoutMs,
    logLevel: logLevel.WARN,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      log[LEVELS[entry.level] ?? 'info']({ ns: entry.namespace, ...rest }, message);
    },
  });
}
