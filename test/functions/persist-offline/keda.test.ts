/**
 * keda/persist-offline-scaledobject.yaml stays a valid KEDA ScaledObject (checked with
 * @kubernetes-models/keda in a child process: the package is ESM-only) and agrees with
 * the code: topic, consumer group, max replicas = partitions, damped scale-down, fallback,
 * and no KEDA-rejected combination of options.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TOPICS } from '../../../shared/bus/topics';
import { loadConfig } from '../../../shared/config';

const root = join(__dirname, '../../..');
const file = join(root, 'keda/persist-offline-scaledobject.yaml');

describe('persist-offline KEDA ScaledObject', () => {
  const doc = parse(readFileSync(file, 'utf8')) as {
    kind: string;
    spec: {
      maxReplicaCount: number;
      fallback: { failureThreshold: number; replicas: number };
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: number } } } };
      triggers: { type: string; metadata: Record<string, string> }[];
    };
  };
  const trigger = doc.spec.triggers[0];

  it('validates against the KEDA schema', () => {
    const script = `
      import { parse } from 'yaml';
      import { readFileSync } from 'node:fs';
      import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
      new ScaledObject(parse(readFileSync(${JSON.stringify(file)}, 'utf8'))).validate();`;
    expect(() => execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('scales the offline_msg consumer group on its lag, at most one replica per partition', () => {
    const defaults = loadConfig({});
    expect(trigger?.type).toBe('kafka');
    expect(trigger?.metadata).toMatchObject({
      topic: defaults.kafka.topics.offlineMsg,
      consumerGroup: defaults.offlineWorker.consumerGroup,
      allowIdleConsumers: 'false',
      offsetResetPolicy: 'earliest',
      ensureEvenDistributionOfPartitions: 'true',
    });
    expect(Number(trigger?.metadata['lagThreshold'])).toBeGreaterThan(0);
    expect(Number(trigger?.metadata['activationLagThreshold'])).toBeGreaterThanOrEqual(0);
    expect(trigger?.metadata['limitToPartitionsWithLag']).not.toBe('true');
    expect(doc.spec.maxReplicaCount).toBe(TOPICS.offline_msg.partitions);
  });

  it('scales down damped and falls back when the lag cannot be read', () => {
    expect(doc.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(doc.spec.fallback.failureThreshold).toBeGreaterThan(0);
    expect(doc.spec.fallback.replicas).toBeGreaterThan(0);
  });
});
