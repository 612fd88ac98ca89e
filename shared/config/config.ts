/**
 * The whole configuration of every function, read from environment variables with
 * the seeds' names and defaults (docs/configuration.md lists them). One object for all
 * functions keeps the all-in-one local process and the per-function containers alike;
 * a function simply ignores the sections it does not use.
 */
import { ConfigError } from '../errors';
import { bool, duration, durations, hostPort, int, list, oneOf, port, str, type Env } from './env';

export const FILTER_ACTIONS = ['block', 'replace', 'audit'] as const;
export const OFFLINE_STORE_POLICIES = ['always', 'offline-only'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Development default for JWT_SECRET; the host warns when it is used. */
export const DEV_JWT_SECRET = 'im-functions-development-secret-do-not-use-in-production';

/**
 * The database settings alone: what the migration Job reads, so that a setting meant
 * for the functions (ENCRYPTION_ENABLED without its key, say) cannot stop a migration.
 */
export function loadDbConfig(env: Env = process.env) {
  const db = hostPort(env, 'DB_HOST', 'localhost', 3306);
  return {
    host: db.host,
    port: env['DB_PORT'] !== undefined && env['DB_PORT'] !== '' ? port(env, 'DB_PORT', 3306) : db.port,
    user: str(env, 'DB_USER', 'im_service'),
    password: str(env, 'DB_PASSWORD', 'im_service_password'),
    name: str(env, 'DB_NAME', 'im_chat'),
    maxOpenConns: int(env, 'DB_MAX_OPEN_CONNS', 25, 1, 1000),
    maxIdleConns: int(env, 'DB_MAX_IDLE_CONNS', 5, 0, 1000),
    connMaxLifetimeMs: duration(env, 'DB_CONN_MAX_LIFETIME', '5m', 1000),
    connTimeoutMs: duration(env, 'DB_CONN_TIMEOUT', '10s', 1),
  };
}

export function loadConfig(env: Env = process.env) {
  const redis = hostPort(env, 'REDIS_ADDR', 'localhost:6379', 6379);
  const config = {
    server: {
      grpcPort: port(env, 'GRPC_PORT', 9094),
      httpPort: port(env, 'HTTP_PORT', 8080),
      maxMessageSize: int(env, 'MAX_MESSAGE_SIZE', 10240, 1, 1_048_576),
      maxRetryAttempts: int(env, 'MAX_RETRY_ATTEMPTS', 3, 1, 10),
      retryTimeoutMs: duration(env, 'RETRY_TIMEOUT', '5s', 1),
      shutdownTimeoutMs: duration(env, 'SHUTDOWN_TIMEOUT', '25s', 1),
      httpBodyLimit: int(env, 'HTTP_BODY_LIMIT', 65536, 1024, 10_485_760),
    },
    log: {
      level: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
      format: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    },
    db: loadDbConfig(env),
    redis: {
      host: redis.host,
      port: redis.port,
      password: str(env, 'REDIS_PASSWORD', ''),
      db: int(env, 'REDIS_DB', 2, 0, 15),
      keyPrefix: str(env, 'REDIS_KEY_PREFIX', 'im:'),
    },
    etcd: {
      endpoints: list(env, 'ETCD_ENDPOINTS', 'localhost:2379').map((e) => (e.includes('://') ? e : `http://${e}`)),
      dialTimeoutMs: duration(env, 'ETCD_DIAL_TIMEOUT', '5s', 1),
    },
    registry: {
      prefix: str(env, 'REGISTRY_PREFIX', '/im/registry/'),
      ttlMs: duration(env, 'REGISTRY_TTL', '90s', 1000),
      keepaliveIntervalMs: duration(env, 'REGISTRY_KEEPALIVE_INTERVAL', '30s', 100),
      lookupTimeoutMs: duration(env, 'REGISTRY_LOOKUP_TIMEOUT', '500ms', 1),
      cacheSize: int(env, 'REGISTRY_CACHE_SIZE', 100_000, 0),
      maxDevicesPerUser: int(env, 'MAX_DEVICES_PER_USER', 5, 1, 100),
    },
    kafka: {
      brokers: list(env, 'KAFKA_BROKERS', 'localhost:9092'),
      clientId: str(env, 'KAFKA_CLIENT_ID', 'im-functions'),
      producerTimeoutMs: duration(env, 'KAFKA_PRODUCER_TIMEOUT', '10s', 1),
      sessionTimeoutMs: duration(env, 'KAFKA_CONSUMER_SESSION_TIMEOUT', '30s', 6000),
      topics: {
        offlineMsg: str(env, 'KAFKA_TOPIC_OFFLINE_MSG', str(env, 'KAFKA_TOPIC', 'offline_msg')),
        groupMsg: str(env, 'KAFKA_TOPIC_GROUP_MSG', 'group_msg'),
        membershipChange: str(env, 'KAFKA_TOPIC_MEMBERSHIP_CHANGE', 'membership_change'),
        readReceipts: str(env, 'KAFKA_TOPIC_READ_RECEIPTS', 'read_receipt_events'),
        offlinePush: str(env, 'KAFKA_TOPIC_OFFLINE_PUSH', 'offline_push'),
        deadLetter: str(env, 'KAFKA_TOPIC_DEAD_LETTER', 'dead_letter'),
      },
    },
    offlineWorker: {
      enabled: bool(env, 'OFFLINE_WORKER_ENABLED', true),
      consumerGroup: str(env, 'KAFKA_CONSUMER_GROUP', 'im-service-offline-workers'),
      batchSize: int(env, 'BATCH_SIZE', 100, 1, 10_000),
      batchTimeoutMs: duration(env, 'BATCH_TIMEOUT', '5s', 1),
      maxRetries: int(env, 'MAX_RETRIES', 5, 0, 100),
      retryBackoffMs: durations(env, 'RETRY_BACKOFF', '1s,2s,4s,8s,16s'),
      /** offline_msg partitions one consumer writes at the same time (one DB connection each). */
      partitionsConcurrently: int(env, 'OFFLINE_PARTITIONS_CONCURRENTLY', 4, 1, 64),
      /** persist-offline group transactions in flight at once (docs/persist-offline.md). */
      writesInFlight: int(env, 'OFFLINE_WRITES_IN_FLIGHT', 2, 1, 8),
    },
    messages: {
      ttlMs: duration(env, 'MESSAGE_TTL', '168h', 1000),
      offlineStorePolicy: oneOf(env, 'OFFLINE_STORE_POLICY', OFFLINE_STORE_POLICIES, 'always'),
      usersCacheTtlMs: duration(env, 'USERS_CACHE_TTL', '60s', 0),
      /** How long a msg_id claim stays IN_PROGRESS without completing (a crashed router's claim then expires). */
      claimInProgressTtlMs: duration(env, 'DEDUP_IN_PROGRESS_TTL', '30s', 100),
      /** How long a duplicate of a msg_id still being routed waits for the first request's answer. */
      claimWaitMs: duration(env, 'DEDUP_IN_PROGRESS_WAIT', '2s', 0),
    },
    sequence: {
      snapshotInterval: int(env, 'SEQUENCE_SNAPSHOT_INTERVAL', 10_000, 1, 100_000_000),
      /** A conversation's Redis state expires after this long idle (0s = never); it is then recovered from MySQL. */
      idleTtlMs: duration(env, 'SEQUENCE_IDLE_TTL', '0s', 0),
    },
    gateway: {
      circuitBreakerThreshold: int(env, 'GATEWAY_CIRCUIT_BREAKER_THRESHOLD', 5, 1),
      circuitBreakerCooldownMs: duration(env, 'GATEWAY_CIRCUIT_BREAKER_COOLDOWN', '10s', 1),
      retryBaseBackoffMs: duration(env, 'GATEWAY_RETRY_BACKOFF', '50ms', 0),
      /** A gateway's channel unused this long is closed (reopened on the next push). */
      channelIdleMs: duration(env, 'GATEWAY_CHANNEL_IDLE_TIMEOUT', '5m', 1000),
    },
    filter: {
      enabled: bool(env, 'FILTER_ENABLED', true),
      action: oneOf(env, 'FILTER_ACTION', FILTER_ACTIONS, 'replace'),
      wordlistPath: str(env, 'FILTER_WORDLIST_PATH', '/etc/im-service/wordlist.txt'),
      /** The seeds' default path may be absent on a dev machine; a path set explicitly must exist. */
      wordlistPathExplicit: (env['FILTER_WORDLIST_PATH'] ?? '').trim() !== '',
      /** How often the word list file is checked for changes (0s = never reload). */
      reloadIntervalMs: duration(env, 'FILTER_RELOAD_INTERVAL', '5s', 0),
    },
    encryption: {
      enabled: bool(env, 'ENCRYPTION_ENABLED', false),
      kmsEndpoint: str(env, 'KMS_ENDPOINT', ''),
      kmsKeyId: str(env, 'KMS_KEY_ID', 'local'),
      /** Local key provider: base64 32-byte key, or a mounted file holding one. */
      localKey: str(env, 'ENCRYPTION_KEY', ''),
      localKeyFile: str(env, 'ENCRYPTION_KEY_FILE', ''),
      dekCacheTtlMs: duration(env, 'DEK_CACHE_TTL', '1h', 0),
      keyRotationDays: int(env, 'KEY_ROTATION_DAYS', 90, 1, 3650),
    },
    task: {
      largeGroupThreshold: int(env, 'LARGE_GROUP_THRESHOLD', 1000, 1),
      fanoutBatchSize: int(env, 'FANOUT_BATCH_SIZE', 500, 1, 100_000),
      fanoutConsumerGroup: str(env, 'FANOUT_CONSUMER_GROUP', 'im-task-fanout'),
      pushNotificationEnabled: bool(env, 'PUSH_NOTIFICATION_ENABLED', true),
      messageRetryAttempts: int(env, 'MESSAGE_RETRY_ATTEMPTS', 3, 0, 100),
      /** group_msg records per fanout batch (each is fanned out in member pages of FANOUT_BATCH_SIZE). */
      fanoutMessageBatch: int(env, 'FANOUT_MESSAGE_BATCH', 50, 1, 10_000),
      /** Longest a fanout fetch waits at the broker when group_msg is idle. */
      fanoutFetchMaxWaitMs: duration(env, 'FANOUT_FETCH_MAX_WAIT', '500ms', 1),
      /** group_msg partitions fanned out at the same time by one consumer. */
      fanoutPartitionsConcurrently: int(env, 'FANOUT_PARTITIONS_CONCURRENTLY', 2, 1, 64),
      /** Member pages of one message being looked up and pushed at the same time. */
      fanoutPageConcurrency: int(env, 'FANOUT_PAGE_CONCURRENCY', 4, 1, 64),
      /** Deadline of one PushBatch call to a gateway, retries included. */
      fanoutPushTimeoutMs: duration(env, 'FANOUT_PUSH_TIMEOUT', '5s', 1),
      /** PushBatch calls in flight per gateway. */
      fanoutGatewayConcurrency: int(env, 'FANOUT_GATEWAY_CONCURRENCY', 2, 1, 64),
      /** Batches queued per gateway beyond those in flight; past it, that gateway's members catch up from the log. */
      fanoutGatewayQueue: int(env, 'FANOUT_GATEWAY_QUEUE', 256, 0, 100_000),
    },
    groups: {
      /** Membership answers are cached this long at most (membership_change events drop them sooner). */
      cacheTtlMs: duration(env, 'GROUP_CACHE_TTL', '30s', 0),
      cacheSize: int(env, 'GROUP_CACHE_SIZE', 100_000, 0),
      /** Prefix of the per-instance consumer group that reads membership_change (from latest, never committed). */
      membershipConsumerPrefix: str(env, 'MEMBERSHIP_CONSUMER_GROUP_PREFIX', 'im-route-group-membership'),
    },
    auth: {
      jwtSecret: str(env, 'JWT_SECRET', DEV_JWT_SECRET),
      jwksUrl: str(env, 'JWT_JWKS_URL', ''),
      audience: str(env, 'JWT_AUDIENCE', 'im-functions'),
      issuer: str(env, 'JWT_ISSUER', 'im-functions'),
    },
    cleanup: {
      batchSize: int(env, 'CLEANUP_BATCH_SIZE', 1000, 1, 100_000),
      pauseMs: duration(env, 'CLEANUP_PAUSE', '100ms', 0),
      maxDurationMs: duration(env, 'CLEANUP_MAX_DURATION', '10m', 1),
      intervalMs: duration(env, 'CLEANUP_INTERVAL', '1h', 1000),
    },
    observability: {
      metricsEnabled: bool(env, 'METRICS_ENABLED', true),
      otlpEndpoint: str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ''),
    },
  };
  if (config.auth.jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters for HS256');
  }
  if (config.offlineWorker.maxRetries > 0 && config.offlineWorker.retryBackoffMs.length === 0) {
    throw new ConfigError('RETRY_BACKOFF', 'must list at least one duration');
  }
  if (config.encryption.localKey !== '' && !/^[A-Za-z0-9+/]{43}=$/.test(config.encryption.localKey)) {
    throw new ConfigError('ENCRYPTION_KEY', 'must be the base64 encoding of exactly 32 bytes (e.g. `openssl rand -base64 32`)');
  }
  if (config.encryption.enabled && config.encryption.localKey === '' && config.encryption.localKeyFile === '') {
    throw new ConfigError(
      'ENCRYPTION_KEY',
      'is required when ENCRYPTION_ENABLED=true: set ENCRYPTION_KEY (base64, 32 bytes) or ENCRYPTION_KEY_FILE (a mounted secret); no KMS client is built in',
    );
  }
  return config;
}

export type Config = ReturnType<typeof loadConfig>;
