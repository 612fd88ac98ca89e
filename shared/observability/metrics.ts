/**
 * Every Prometheus metric the product exports, created once per registry. Names of
 * the original service (seeds) are kept: im_service_messages_routed_total{type},
 * im_service_routing_latency (milliseconds, as the seeds' buckets are), and so on.
 * Functions share one registry in the all-in-one process, so they must not create
 * metrics of their own elsewhere.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_MS_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

export function createMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    messagesRouted: new Counter({
      name: 'im_service_messages_routed_total',
      help: 'Messages routed, by type (private|group) and path (fast|offline|published)',
      labelNames: ['type', 'path'] as const,
      registers: r,
    }),
    routingLatency: new Histogram({
      name: 'im_service_routing_latency',
      help: 'Routing latency in milliseconds, by type',
      labelNames: ['type'] as const,
      buckets: LATENCY_MS_BUCKETS,
      registers: r,
    }),
    offlineStored: new Counter({
      name: 'im_service_offline_messages_stored_total',
      help: 'Offline messages written to MySQL',
      registers: r,
    }),
    duplicatesSkipped: new Counter({
      name: 'im_service_offline_duplicates_skipped_total',
      help: 'Records already stored (redeliveries), skipped without a second row',
      registers: r,
    }),
    deadLettered: new Counter({
      name: 'im_service_dead_lettered_total',
      help: 'Records sent to the dead-letter topic, by source topic and error code',
      labelNames: ['topic', 'code'] as const,
      registers: r,
    }),
    sequenceGenerated: new Counter({
      name: 'im_service_sequence_numbers_generated_total',
      help: 'Sequence numbers issued',
      registers: r,
    }),
    sequenceBlocksReserved: new Counter({
      name: 'im_service_sequence_blocks_reserved_total',
      help: 'Sequence blocks reserved in MySQL, by reason (exhausted|recovery: Redis state was missing)',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    claims: new Counter({
      name: 'im_service_message_claims_total',
      help: 'msg_id claims, by scope and result (claimed|in_progress|completed|conflict)',
      labelNames: ['scope', 'result'] as const,
      registers: r,
    }),
    consumerLag: new Gauge({
      name: 'im_service_kafka_consumer_lag',
      help: 'Consumer lag in records, by group, topic and partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers: r,
    }),
    batchSize: new Histogram({
      name: 'im_service_batch_size',
      help: 'Records per processed batch, by consumer',
      labelNames: ['consumer'] as const,
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
      registers: r,
    }),
    batchLatency: new Histogram({
      name: 'im_service_batch_latency',
      help: 'Batch processing time in milliseconds, by consumer',
      labelNames: ['consumer'] as const,
      buckets: LATENCY_MS_BUCKETS,
      registers: r,
    }),
    pushes: new Counter({
      name: 'im_service_gateway_pushes_total',
      help: 'Device pushes attempted through gateways, by outcome (delivered|undelivered|error)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    fanoutTargets: new Counter({
      name: 'im_service_fanout_targets_total',
      help: 'Group fanout targets, by outcome (delivered|undelivered: a device push failed|offline: no device|shed: gateway backlog full)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    fanoutDuration: new Histogram({
      name: 'im_service_fanout_duration',
      help: 'Time to fan a batch of group messages out (log write to the last gateway answer), milliseconds',
      buckets: [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000],
      registers: r,
    }),
    groupCacheLookups: new Counter({
      name: 'im_service_group_cache_lookups_total',
      help: 'Group membership lookups by route-group, by result (hit|miss)',
      labelNames: ['result'] as const,
      registers: r,
    }),
    cleanupDeleted: new Counter({
      name: 'im_service_cleanup_deleted_total',
      help: 'Rows deleted by cleanup-expired, by table',
      labelNames: ['table'] as const,
      registers: r,
    }),
    cleanupRuns: new Counter({
      name: 'im_service_cleanup_runs_total',
      help: 'cleanup-expired runs, by outcome (complete|partial|skipped|failed)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    cleanupLastComplete: new Gauge({
      name: 'im_service_cleanup_last_complete_timestamp_seconds',
      help: 'Unix time at which a cleanup-expired run last left nothing expired behind',
      registers: r,
    }),
    registryLookups: new Counter({
      name: 'im_service_registry_lookups_total',
      help: 'Users looked up in the device registry, by result (hit: local cache|miss: read from etcd|error)',
      labelNames: ['result'] as const,
      registers: r,
    }),
    registryWatchResets: new Counter({
      name: 'im_service_registry_watch_resets_total',
      help: 'Registry watches that could not resume (history compacted, watch cancelled) and dropped their cache',
      registers: r,
    }),
    registryLeaseRenewals: new Counter({
      name: 'im_service_registry_lease_renewals_total',
      help: 'Gateway registry leases replaced after being lost, and their devices re-registered',
      registers: r,
    }),
    errors: new Counter({
      name: 'im_service_errors_total',
      help: 'Errors answered or handled, by function and product error code',
      labelNames: ['fn', 'code'] as const,
      registers: r,
    }),
    filterMatches: new Counter({
      name: 'im_service_filter_matches_total',
      help: 'Messages in which the sensitive-word filter found words, by action (block|replace|audit)',
      labelNames: ['action'] as const,
      registers: r,
    }),
    filterWordlistReloads: new Counter({
      name: 'im_service_filter_wordlist_reloads_total',
      help: 'Sensitive-word list reloads, by outcome (loaded|failed|missing)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    filterWordlistWords: new Gauge({
      name: 'im_service_filter_wordlist_words',
      help: 'Distinct words in the sensitive-word list in use',
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
