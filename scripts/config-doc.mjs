// Writes the configuration table (docs/configuration.md, and README.md between the
// `config-table` markers) from shared/config/config.ts itself, so the documented names
// and defaults are the ones the code reads. `--check` fails when either file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const source = readFileSync(join(root, 'shared/config/config.ts'), 'utf8');

const DESCRIPTIONS = {
  GRPC_PORT: 'gRPC port of the routing functions (im.v1.IMService)',
  HTTP_PORT: 'HTTP port: client API, admin API, /health, /ready, /stats, /metrics',
  MAX_MESSAGE_SIZE: 'Largest message content in bytes (larger: MESSAGE_TOO_LARGE)',
  MAX_RETRY_ATTEMPTS: 'Push attempts per gateway call',
  RETRY_TIMEOUT: 'Deadline of one gateway push attempt',
  SHUTDOWN_TIMEOUT: 'Budget for draining in-flight work on SIGTERM',
  HTTP_BODY_LIMIT: 'Largest HTTP request body in bytes',
  LOG_LEVEL: 'trace, debug, info, warn, error, fatal or silent',
  LOG_FORMAT: 'json (pretty is accepted for compatibility; logs stay JSON)',
  DB_HOST: 'MySQL/MariaDB host, optionally host:port',
  DB_PORT: 'MySQL/MariaDB port (overrides a port in DB_HOST)',
  DB_USER: 'Database user',
  DB_PASSWORD: 'Database password (development default; set it in production)',
  DB_NAME: 'Database name',
  DB_MAX_OPEN_CONNS: 'Connection pool size',
  DB_MAX_IDLE_CONNS: 'Idle connections kept',
  DB_CONN_MAX_LIFETIME: 'Idle connection lifetime',
  DB_CONN_TIMEOUT: 'Connect timeout',
  REDIS_ADDR: 'Redis host:port',
  REDIS_PASSWORD: 'Redis password',
  REDIS_DB: 'Redis database number',
  REDIS_KEY_PREFIX: 'Prefix of every Redis key (several installations can share a server)',
  ETCD_ENDPOINTS: 'Comma-separated etcd endpoints',
  ETCD_DIAL_TIMEOUT: 'etcd connect timeout',
  REGISTRY_PREFIX: 'etcd key prefix of the device registry',
  REGISTRY_TTL: 'Lease TTL of registry entries',
  REGISTRY_KEEPALIVE_INTERVAL: 'Lease renewal interval',
  REGISTRY_LOOKUP_TIMEOUT: 'Deadline of a registry lookup (then REGISTRY_ERROR and the offline path)',
  REGISTRY_CACHE_SIZE: "Users kept in a router's registry cache",
  MAX_DEVICES_PER_USER: 'Devices one user may register at once',
  KAFKA_BROKERS: 'Comma-separated Kafka bootstrap brokers',
  KAFKA_CLIENT_ID: 'Kafka client id',
  KAFKA_PRODUCER_TIMEOUT: 'Produce request timeout',
  KAFKA_CONSUMER_SESSION_TIMEOUT: 'Consumer group session timeout',
  KAFKA_TOPIC_OFFLINE_MSG: 'Topic of messages bound for inboxes (KAFKA_TOPIC is accepted as the seeds name)',
  KAFKA_TOPIC_GROUP_MSG: 'Topic of group messages for fanout',
  KAFKA_TOPIC_MEMBERSHIP_CHANGE: 'Topic of group membership changes',
  KAFKA_TOPIC_READ_RECEIPTS: 'Topic of read receipts',
  KAFKA_TOPIC_OFFLINE_PUSH: 'Topic of offline push-notification tasks',
  KAFKA_TOPIC_DEAD_LETTER: 'Topic of records that can never be processed',
  OFFLINE_WORKER_ENABLED: 'Run the persist-offline consumer',
  KAFKA_CONSUMER_GROUP: 'Consumer group of persist-offline',
  BATCH_SIZE: 'persist-offline batch size',
  BATCH_TIMEOUT: 'persist-offline batch time limit',
  MAX_RETRIES: 'Retries of a failing batch before its partition pauses',
  RETRY_BACKOFF: 'Backoff schedule of those retries (jittered)',
  OFFLINE_PARTITIONS_CONCURRENTLY: 'offline_msg partitions one persist-offline consumer writes at once (one DB connection each)',
  OFFLINE_WRITES_IN_FLIGHT: 'persist-offline transactions in flight at once (1: one at a time); see docs/persist-offline.md',
  MESSAGE_TTL: 'How long inbox rows, group log entries, status and dedup state live',
  OFFLINE_STORE_POLICY: 'always: every private message also lands in the inbox; offline-only: only undelivered ones',
  USERS_CACHE_TTL: 'How long a known recipient is cached',
  SEQUENCE_SNAPSHOT_INTERVAL: 'Sequence numbers reserved in MySQL per block (hi/lo)',
  SEQUENCE_IDLE_TTL: "Expiry of an idle conversation's Redis sequence state (0s = never; it is recovered from MySQL)",
  DEDUP_IN_PROGRESS_TTL: 'How long a msg_id claim stays in progress before a retry may take it over',
  DEDUP_IN_PROGRESS_WAIT: "How long a duplicate of a msg_id still being routed waits for the first request's answer",
  GATEWAY_CIRCUIT_BREAKER_THRESHOLD: 'Consecutive failures that open a gateway circuit',
  GATEWAY_CIRCUIT_BREAKER_COOLDOWN: 'How long an open circuit stays open',
  GATEWAY_RETRY_BACKOFF: 'Base backoff between push attempts',
  GATEWAY_CHANNEL_IDLE_TIMEOUT: 'A gateway channel unused this long is closed',
  FILTER_ENABLED: 'Apply the sensitive-word filter',
  FILTER_ACTION: 'block, replace or audit',
  FILTER_WORDLIST_PATH: 'Word list file (absent default path: empty list)',
  FILTER_RELOAD_INTERVAL: 'How often the word list file is checked for changes (0s = never reload)',
  ENCRYPTION_ENABLED: 'Envelope-encrypt stored message content',
  KMS_ENDPOINT: 'KMS endpoint (empty: local key provider)',
  KMS_KEY_ID: 'Key id of the wrapping key',
  ENCRYPTION_KEY: 'Local provider: base64 32-byte master key',
  ENCRYPTION_KEY_FILE: 'Local provider: file holding the master key(s)',
  DEK_CACHE_TTL: 'How long one data key encrypts messages',
  KEY_ROTATION_DAYS: 'Age after which a new key version is used',
  LARGE_GROUP_THRESHOLD: 'Members from which fanout pages through the group',
  FANOUT_BATCH_SIZE: 'Members per fanout page (one gateway batch per page)',
  FANOUT_CONSUMER_GROUP: 'Consumer group of fanout-group',
  PUSH_NOTIFICATION_ENABLED: 'Emit offline push-notification tasks',
  MESSAGE_RETRY_ATTEMPTS: 'Retries of a failed fanout step',
  FANOUT_MESSAGE_BATCH: 'group_msg records handed to one fanout batch',
  FANOUT_FETCH_MAX_WAIT: 'Longest a fanout fetch waits at the broker while group_msg is idle',
  FANOUT_PARTITIONS_CONCURRENTLY: 'group_msg partitions one fanout consumer works on at once',
  FANOUT_PAGE_CONCURRENCY: 'Member pages of one message looked up and pushed at once',
  FANOUT_PUSH_TIMEOUT: 'Deadline of a fanout PushBatch from when it is queued (retries included); also bounds a round\'s registry lookup',
  FANOUT_GATEWAY_CONCURRENCY: 'PushBatch calls in flight per gateway',
  FANOUT_GATEWAY_QUEUE: 'Batches queued per gateway; beyond it that gateway\'s members catch up from the group log',
  GROUP_CACHE_TTL: 'Longest a group membership answer is cached (membership_change events drop it sooner)',
  GROUP_CACHE_SIZE: 'Membership answers kept in the route-group cache',
  MEMBERSHIP_CONSUMER_GROUP_PREFIX: 'Prefix of the per-instance consumer group reading membership_change',
  JWT_SECRET: 'HS256 secret of client tokens (development default; set it in production)',
  JWT_JWKS_URL: 'JWKS URL for RS256/ES256 tokens (overrides JWT_SECRET)',
  JWT_AUDIENCE: 'Required token audience',
  JWT_ISSUER: 'Required token issuer',
  CLEANUP_BATCH_SIZE: 'Rows deleted per cleanup batch',
  CLEANUP_PAUSE: 'Pause between cleanup batches',
  CLEANUP_MAX_DURATION: 'Longest cleanup run',
  CLEANUP_INTERVAL: 'Cleanup period in the all-in-one local process',
  METRICS_ENABLED: 'Serve /metrics',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'Where an OpenTelemetry SDK, if installed, exports spans',
};

const re = /\b(str|int|port|bool|oneOf|duration|durations|list|hostPort)\(env, '([A-Z0-9_]+)', ((?:[^()]|\([^()]*\))*?)(?:,\s*[\d_]+)*\)/g;
const rows = new Map();
for (const m of source.matchAll(re)) {
  const [, kind, name, rest] = m;
  if (rows.has(name)) continue;
  let def = rest.trim();
  if (kind === 'oneOf') {
    const allowed = def.match(/^(\w+|\[[^\]]*\](?: as const)?),\s*(.*)$/);
    def = allowed ? allowed[2] : def;
  }
  def = def.split(/,\s*(?=[\d_]+$)/)[0].replace(/^'(.*)'$/, '$1').replace(/_/g, (u, i, s) => (/\d_\d/.test(s.slice(i - 1, i + 2)) ? '' : u));
  if (def.startsWith("str(env, '")) def = def.match(/'([^']*)'\)\s*$/)?.[1] ?? def;
  if (def === 'DEV_JWT_SECRET') def = '(development secret)';
  rows.set(name, { name, def: def === '' ? '(empty)' : def, desc: DESCRIPTIONS[name] ?? '' });
}

const missing = [...rows.values()].filter((r) => !r.desc).map((r) => r.name);
const table = [
  '| variable | default | meaning |',
  '| --- | --- | --- |',
  ...[...rows.values()].map((r) => `| \`${r.name}\` | \`${r.def}\` | ${r.desc} |`),
].join('\n');

const docPath = join(root, 'docs/configuration.md');
const doc = `# Configuration

Every function reads the same environment variables (the original service's names and
defaults) and validates them at start-up: a bad value stops the process with one line
naming the variable, e.g. \`config error: GRPC_PORT: must be a port number 0-65535, got "abc"\`.
Durations are written like the seeds: \`250ms\`, \`5s\`, \`10m\`, \`168h\`.

This table is generated from \`shared/config/config.ts\` by \`node scripts/config-doc.mjs\`.

${table}
`;
const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i < 0 || j < 0) throw new Error('README.md lacks the config-table markers');
const newReadme = `${readme.slice(0, i + start.length)}\n${table}\n${readme.slice(j)}`;

if (process.argv.includes('--check')) {
  const stale = [];
  if (readFileSync(docPath, 'utf8') !== doc) stale.push('docs/configuration.md');
  if (readme !== newReadme) stale.push('README.md');
  if (missing.length) console.error(`variables without a description in scripts/config-doc.mjs: ${missing.join(', ')}`);
  if (stale.length) console.error(`stale configuration table in ${stale.join(', ')}: run node scripts/config-doc.mjs`);
  process.exit(stale.length || missing.length ? 1 : 0);
}
writeFileSync(docPath, doc);
writeFileSync(readmePath, newReadme);
console.log(`configuration table: ${rows.size} variables${missing.length ? `; undescribed: ${missing.join(', ')}` : ''}`);
