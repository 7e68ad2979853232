// The text of `kafka-topics.sh --describe`, shared by the CLI (`minikafka topics --describe`) and the extension
// (MiniKafka: Describe Topic opens it in an editor). No I/O here: callers fetch the descriptions and configs.

import type { PartitionInfo, TopicConfigEntry, TopicDescription } from './admin';

/** `Topic: T\tPartitionCount: n\tReplicationFactor: r\tConfigs: k=v,...` (TopicId is omitted: kafkajs cannot read it). */
export function topicLine(topic: TopicDescription, configs: TopicConfigEntry[]): string {
  const nonDefault = configs
    .filter((c) => c.source !== 'default')
    .map((c) => `${c.name}=${c.value ?? 'null'}`)
    .join(',');
  const replicationFactor = topic.partitions[0]?.replicas.length ?? 0;
  return `Topic: ${topic.name}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${replicationFactor}\tConfigs: ${nonDefault}\n`;
}

/** `\tTopic: T\tPartition: p\tLeader: id|none\tReplicas: a,b\tIsr: a,b` — Kafka <= 3.7's layout, which ends after Isr. */
export function partitionLine(topic: string, p: PartitionInfo): string {
  const leader = p.leader >= 0 ? String(p.leader) : 'none';
  return `\tTopic: ${topic}\tPartition: ${p.partition}\tLeader: ${leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\n`;
}

/** The whole describe output for these topics: a topic line (unless only partitions are wanted), then its partitions. */
export function describeTopicsText(
  topics: TopicDescription[],
  configs: Map<string, TopicConfigEntry[]>,
  opts: { partitionFilter?: (p: PartitionInfo) => boolean; partitionsOnly?: boolean } = {},
): string {
  let out = '';
  for (const topic of topics) {
    if (!opts.partitionsOnly) out += topicLine(topic, configs.get(topic.name) ?? []);
    out += topic.partitions
      .filter(opts.partitionFilter ?? (() => true))
      .map((p) => partitionLine(topic.name, p))
      .join('');
  }
  return out;
}
