/** The Kafka kit (kafkajs client and the product's one producer per process). */
import { createKafka } from '../../bus/kafka';
import { EventProducer } from '../../bus/producer';
import type { KafkaKit } from './types';

export const kafkaKit: KafkaKit = {
  create: (kafka, logger) => createKafka(kafka, logger),
  producer: (kafka) => new EventProducer(kafka),
};
