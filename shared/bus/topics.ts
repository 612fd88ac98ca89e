/**
 * The product's Kafka topics and their local partition counts and retention. The same
 * JSON file drives `npm run stack:up` (topic creation) and the chart's KEDA max
 * replicas, so they cannot drift apart.
 */
import topics from './topics.json';

export type TopicName = keyof typeof topics;
export interface TopicSpec {
  partitions: number;
  retentionMs: number;
  purpose: string;
}
export const TOPICS: Readonly<Record<TopicName, TopicSpec>> = topics;
