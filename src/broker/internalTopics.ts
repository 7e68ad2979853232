// Creating the coordinators' internal topics (__consumer_offsets, __transaction_state) on first use, as Kafka does:
// compacted, replicated as widely as the configured factor and the live brokers allow.

import { ErrorCode, KafkaError } from '../protocol/errorCode';
import type { Broker } from './broker';

/** Creates `name` unless it exists (a concurrent creation is fine), then applies the resulting metadata locally. */
export async function ensureInternalTopic(broker: Broker, name: string, numPartitions: number, replicationFactor: number): Promise<void> {
  const live = broker.image.brokers.filter((b) => !b.fenced).length;
  const rf = Math.max(1, Math.min(replicationFactor, live));
  try {
    await broker.controller.createTopic(
      {
        name,
        numPartitions,
        replicationFactor: rf,
        internal: true,
        configs: { 'cleanup.policy': 'compact', 'segment.bytes': '104857600', 'compression.type': 'producer' },
      },
      false,
    );
  } catch (err) {
    if (!(err instanceof KafkaError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
  }
  await broker.syncMetadata();
}
