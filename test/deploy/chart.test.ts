/**
 * The Helm chart renders what the code expects: values reach the manifests, and the
 * environment each pod gets is one loadConfig accepts and reads the way the chart's
 * other objects assume (the KEDA trigger's consumer group and topic are the consumer's
 * own, probes hit HTTP_PORT, the routers' gRPC port is named h2c, grace periods exceed
 * SHUTDOWN_TIMEOUT). Rendering needs helm (scripts/chart-tools.sh installs the pinned
 * version on first use); full validation of every document is `npm run chart:check`.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../shared/config';
import { TOPICS } from '../../shared/bus/topics';

const root = join(__dirname, '../..');
const chart = join(root, 'charts/im-functions');

// Rendered YAML: untyped on purpose, its shape is what the assertions check.
type Obj = Record<string, any>;
let helmBin = '';

beforeAll(() => {
  const bin = execFileSync('sh', [join(root, 'scripts/chart-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  helmBin = join(bin.trim().split('\n').pop() as string, 'helm');
}, 900_000);

function helm(args: string[]): string {
  return execFileSync(helmBin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function render(...args: string[]): Obj[] {
  const text = helm(['template', 'im', chart, '--namespace', 'im', '--kube-version', '1.30.0', ...args]);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}
const find = (docs: Obj[], kind: string, suffix: string): Obj | undefined =>
  docs.find((d) => d['kind'] === kind && String(d['metadata']?.['name']).endsWith(suffix));
const podSpec = (d: Obj): Obj => (d['kind'] === 'CronJob' ? d['spec']['jobTemplate']['spec']['template']['spec'] : d['spec']['template']['spec']);

/** Valid stand-ins for what an operator puts in the Secret. */
const SECRET_VALUES: Record<string, string> = {
  DB_PASSWORD: 'db-password',
  REDIS_PASSWORD: 'redis-password',
  JWT_SECRET: 'a-jwt-secret-of-at-least-thirty-two-characters',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

/** The environment a pod's process sees: the ConfigMap, its env entries, the Secret's keys. */
function podEnv(docs: Obj[], workload: Obj): Record<string, string> {
  const container = podSpec(workload)['containers'][0] as Obj;
  const env: Record<string, string> = {};
  for (const from of (container['envFrom'] ?? []) as Obj[]) {
    const cm = docs.find((d) => d['kind'] === 'ConfigMap' && d['metadata']['name'] === from['configMapRef']?.['name']);
    Object.assign(env, cm?.['data'] ?? {});
  }
  for (const e of (container['env'] ?? []) as Obj[]) {
    if (typeof e['value'] === 'string') env[e['name']] = e['value'];
    else if (e['valueFrom']?.['secretKeyRef'] && SECRET_VALUES[e['name']]) env[e['name']] = SECRET_VALUES[e['name']] as string;
  }
  return env;
}

const CONSUMERS = [
  { fn: 'persist-offline', group: (c: ReturnType<typeof loadConfig>) => c.offlineWorker.consumerGroup, topic: (c: ReturnType<typeof loadConfig>) => c.kafka.topics.offlineMsg },
  { fn: 'fanout-group', group: (c: ReturnType<typeof loadConfig>) => c.task.fanoutConsumerGroup, topic: (c: ReturnType<typeof loadConfig>) => c.kafka.topics.groupMsg },
] as const;

describe('KEDA ScaledObjects', () => {
  it.each([
    ['default values', [] as string[]],
    ['groups renamed in the shared config and per function', ['--set', 'config.KAFKA_CONSUMER_GROUP=inbox-prod', '--set', 'functions.fanout-group.env.FANOUT_CONSUMER_GROUP=fanout-prod', '--set', 'config.KAFKA_TOPIC_GROUP_MSG=groups_v2']],
  ])('trigger on the consumer group and topic the consumer itself reads (%s)', (_, args) => {
    const docs = render(...args);
    for (const { fn, group, topic } of CONSUMERS) {
      const scaled = find(docs, 'ScaledObject', fn) as Obj;
      const deployment = find(docs, 'Deployment', fn) as Obj;
      const config = loadConfig(podEnv(docs, deployment));
      const trigger = scaled['spec']['triggers'][0]['metadata'];
      expect({ fn, group: trigger['consumerGroup'], topic: trigger['topic'] }).toEqual({ fn, group: group(config), topic: topic(config) });
      expect(trigger['bootstrapServers']).toBe(config.kafka.brokers.join(','));
    }
    if (args.length === 0) {
      const defaults = loadConfig({});
      expect(find(docs, 'ScaledObject', 'persist-offline')?.['spec']['triggers'][0]['metadata']['consumerGroup']).toBe(defaults.offlineWorker.consumerGroup);
      expect(find(docs, 'ScaledObject', 'fanout-group')?.['spec']['triggers'][0]['metadata']['consumerGroup']).toBe(defaults.task.fanoutConsumerGroup);
    }
  });

  it('caps replicas at the topic partition count, with fallback and a damped scale-down', () => {
    const docs = render();
    for (const [fn, topic] of [['persist-offline', 'offline_msg'], ['fanout-group', 'group_msg']] as const) {
      const spec = find(docs, 'ScaledObject', fn)?.['spec'] as Obj;
      expect(spec['maxReplicaCount']).toBe(TOPICS[topic].partitions);
      expect(spec['scaleTargetRef']).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: find(docs, 'Deployment', fn)?.['metadata']['name'] });
      expect(spec['fallback']['replicas']).toBeGreaterThan(0);
      expect(spec['advanced']['horizontalPodAutoscalerConfig']['behavior']['scaleDown']['stabilizationWindowSeconds']).toBeGreaterThanOrEqual(60);
      expect(Number(spec['triggers'][0]['metadata']['lagThreshold'])).toBeGreaterThan(Number(spec['triggers'][0]['metadata']['activationLagThreshold']));
    }
  });

  it('leaves replicas to KEDA on the Deployments it scales, and sets them when KEDA is off', () => {
    const docs = render();
    const scaled = docs.filter((d) => d['kind'] === 'ScaledObject');
    expect(scaled).toHaveLength(2);
    for (const s of scaled) {
      const target = docs.find((d) => d['kind'] === 'Deployment' && d['metadata']['name'] === s['spec']['scaleTargetRef']['name']) as Obj;
      expect(target).toBeDefined();
      expect(target['spec']).not.toHaveProperty('replicas');
    }
    const off = render('--set', 'keda.enabled=false');
    expect(off.filter((d) => d['kind'] === 'ScaledObject')).toHaveLength(0);
    for (const { fn } of CONSUMERS) expect(find(off, 'Deployment', fn)?.['spec']['replicas']).toBe(2);
  });
});

describe('request functions', () => {
  it('are Knative Services: the routers serve gRPC on a port named h2c, scale from values', () => {
    const docs = render('--set', 'functions.route-group.scaling.maxScale=7', '--set', 'functions.route-group.scaling.target=42');
    for (const fn of ['route-private', 'route-group', 'mark-read']) {
      const ksvc = find(docs, 'Service', fn) as Obj;
      expect(ksvc['apiVersion']).toBe('serving.knative.dev/v1');
      const container = ksvc['spec']['template']['spec']['containers'][0];
      const config = loadConfig(podEnv(docs, ksvc));
      const port = container['ports'][0];
      if (fn === 'mark-read') expect(port).toEqual({ name: 'http1', containerPort: config.server.httpPort });
      else expect(port).toEqual({ name: 'h2c', containerPort: config.server.grpcPort });
      // Knative probes the serving port only: the routers' speaks gRPC, so a TCP connect there.
      for (const probe of [container['readinessProbe'], container['livenessProbe']]) {
        expect(probe['httpGet'] ?? probe['tcpSocket']).toMatchObject({ port: port.containerPort });
      }
      if (fn === 'mark-read') {
        expect(container['readinessProbe']['httpGet']).toEqual({ path: '/ready', port: config.server.httpPort });
        expect(container['livenessProbe']['httpGet']).toEqual({ path: '/health', port: config.server.httpPort });
      }
    }
    const annotations = find(docs, 'Service', 'route-group')?.['spec']['template']['metadata']['annotations'];
    expect(annotations).toMatchObject({
      'autoscaling.knative.dev/max-scale': '7',
      'autoscaling.knative.dev/min-scale': '1',
      'autoscaling.knative.dev/target': '42',
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
    });
    expect(docs.filter((d) => d['kind'] === 'HorizontalPodAutoscaler')).toHaveLength(0);
  });

  it('are Deployment + Service + HPA without Knative', () => {
    const docs = render('--set', 'knative.enabled=false');
    for (const fn of ['route-private', 'route-group', 'mark-read']) {
      const deployment = find(docs, 'Deployment', fn) as Obj;
      expect(deployment['spec']).not.toHaveProperty('replicas'); // the HPA owns it
      const service = docs.find((d) => d['apiVersion'] === 'v1' && d['kind'] === 'Service' && d['metadata']['name'].endsWith(fn)) as Obj;
      expect(service['spec']['selector']).toEqual(deployment['spec']['selector']['matchLabels']);
      const hpa = find(docs, 'HorizontalPodAutoscaler', fn) as Obj;
      expect(hpa['spec']['scaleTargetRef']['name']).toBe(deployment['metadata']['name']);
    }
    const grpc = find(docs, 'Service', 'route-private')?.['spec']['ports'].find((p: Obj) => p['port'] === 9094);
    expect(grpc).toMatchObject({ name: 'grpc', appProtocol: 'kubernetes.io/h2c' });
  });
});

describe('every workload', () => {
  it.each(['default', 'full', 'all-off', 'knative-off'])('gets a configuration the code accepts, and drains within its grace period (%s)', (scenario) => {
    const docs = render(...(scenario === 'default' ? [] : ['--values', join(chart, 'ci', `${scenario}-values.yaml`)]));
    const workloads = docs.filter((d) => ['Deployment', 'CronJob'].includes(d['kind']) || (d['kind'] === 'Service' && d['apiVersion'].includes('knative')));
    expect(workloads.length).toBeGreaterThan(0);
    for (const w of workloads) {
      const config = loadConfig(podEnv(docs, w)); // throws on any bad value
      const grace = podSpec(w)['terminationGracePeriodSeconds'];
      if (grace !== undefined) expect([w['metadata']['name'], grace * 1000 > config.server.shutdownTimeoutMs]).toEqual([w['metadata']['name'], true]);
    }
  });

  it('runs cleanup as a CronJob: --once, never two at a time, deadline above CLEANUP_MAX_DURATION', () => {
    const docs = render('--set', 'functions.cleanup-expired.schedule=*/20 * * * *');
    const cron = find(docs, 'CronJob', 'cleanup-expired') as Obj;
    expect(cron['spec']).toMatchObject({ schedule: '*/20 * * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 600, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
    const job = cron['spec']['jobTemplate']['spec'];
    expect(job['template']['spec']['containers'][0]['args']).toEqual(['--once']);
    expect(job['template']['spec']['restartPolicy']).toBe('Never');
    expect(job['activeDeadlineSeconds'] * 1000).toBeGreaterThan(loadConfig(podEnv(docs, cron)).cleanup.maxDurationMs);
  });

  it('migrates as a pre-install/pre-upgrade hook before any pod starts', () => {
    const docs = render('--set', 'secrets.values.DB_PASSWORD=s3cret');
    const job = find(docs, 'Job', 'migrate') as Obj;
    expect(job['metadata']['annotations']['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const container = job['spec']['template']['spec']['containers'][0];
    expect(container['image']).toMatch(/\/migrate:/);
    const password = container['env'].find((e: Obj) => e['name'] === 'DB_PASSWORD');
    const hookSecret = find(docs, 'Secret', '-migrate') as Obj;
    expect(hookSecret['metadata']['annotations']['helm.sh/hook-weight']).toBe('-10');
    expect(password['valueFrom']['secretKeyRef']['name']).toBe(hookSecret['metadata']['name']);
  });
});

describe('values.schema.json', () => {
  const failure = (...args: string[]): string => {
    try {
      render(...args);
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? err);
    }
    return '';
  };

  it.each([
    ['a typo in a function block', ['--set', 'functions.route-private.scalling.target=5'], 'scalling'],
    ['a typo in a configuration variable', ['--set', 'config.DB_HSOT=db:3306'], 'DB_HSOT'],
    ['a typo at the top level', ['--set', 'kedaa.enabled=false'], 'kedaa'],
    ['a secret in the ConfigMap', ['--set', 'config.JWT_SECRET=x'], 'JWT_SECRET'],
    ['a wrong type', ['--set', 'functions.persist-offline.scaling.maxReplicas=many'], 'maxReplicas'],
  ])('rejects %s', (_, args, word) => {
    const err = failure(...args);
    expect(err).toMatch(/values don't meet the specifications of the schema|schema/i);
    expect(err).toContain(word);
  });

  it('accepts every variable the code reads, outside the Secret and the ports', () => {
    expect(failure('--set', 'config.DB_HOST=db:3306', '--set', 'config.CLEANUP_BATCH_SIZE=10')).toBe('');
  });
});
