// Writing transaction markers. The coordinator of a transaction asks the leader of each of its partitions to
// append a commit or abort marker (WriteTxnMarkers, an inter-broker request; appended locally when this broker is
// the leader), and retries each partition until its leader has the marker replicated, following leadership
// changes. On a __consumer_offsets partition the marker also makes the group coordinator apply or drop the
// transaction's pending offsets.

import { WriteTxnMarkers } from '../../protocol/apis/27-write-txn-markers';
import { ErrorCode, KafkaError, errorName } from '../../protocol/errorCode';
import { TxnMarker, buildMarkerBatch } from '../../protocol/records/controlRecord';
import type { Broker } from '../broker';
import { OFFSETS_TOPIC } from '../metadata';
import { InterBrokerClients } from './interBrokerClients';
import type { TxnPartition } from './stateRecords';

/** How long a leader waits for a marker to reach its ISR before answering (Kafka uses the request timeout). */
const MARKER_REPLICATION_TIMEOUT_MS = 30000;
const RETRY_BACKOFF_MS = 200;

/** Appends a marker on this broker as the partition's leader and waits until the ISR has it. */
export async function writeMarkerAsLeader(broker: Broker, marker: TxnMarker, topic: string, partition: number): Promise<number> {
  const p = broker.partition(topic, partition);
  if (!p) {
    const known = broker.topicState(topic)?.partitions.some((x) => x.partition === partition);
    return known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }
  if (!p.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  try {
    const info = p.appendAsLeader(buildMarkerBatch(marker), 'coordinator');
    await p.waitForHighWatermark(info.lastOffset + 1, MARKER_REPLICATION_TIMEOUT_MS);
    if (topic === OFFSETS_TOPIC) broker.groups.completeTxnOffsets(partition, marker.producerId, marker.commit);
    return 0;
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    broker.logger.error(`marker append to ${p.key} failed: ${(err as Error).message}`);
    return ErrorCode.KAFKA_STORAGE_ERROR;
  }
}

/** Sends markers to partition leaders, one connection per broker (the internal listener when security is on). */
export class MarkerSender {
  private readonly clients: InterBrokerClients;

  constructor(private readonly broker: Broker) {
    this.clients = new InterBrokerClients(broker, `txn-coordinator-${broker.nodeId}`);
  }

  /**
   * Writes the marker to every partition, retrying until each is written or can never be (the topic was deleted,
   * or the partition has a newer producer epoch). `stillValid` stops the retries once this broker is no longer the
   * transaction's coordinator: the new one resends the markers after loading the state.
   */
  async writeAll(marker: TxnMarker, partitions: TxnPartition[], stillValid: () => boolean): Promise<boolean> {
    let remaining = partitions;
    while (remaining.length > 0) {
      if (!stillValid()) return false;
      const failed: TxnPartition[] = [];
      const byLeader = new Map<number, TxnPartition[]>();
      for (const tp of remaining) {
        const state = this.broker.topicState(tp.topic)?.partitions.find((x) => x.partition === tp.partition);
        if (!state) continue; // the topic is gone: nothing to mark
        if (state.leader < 0) {
          failed.push(tp);
          continue;
        }
        byLeader.set(state.leader, [...(byLeader.get(state.leader) ?? []), tp]);
      }
      await Promise.all(
        [...byLeader].map(async ([leader, tps]) => {
          const codes = leader === this.broker.nodeId ? await Promise.all(tps.map((tp) => writeMarkerAsLeader(this.broker, marker, tp.topic, tp.partition))) : await this.sendTo(leader, marker, tps);
          tps.forEach((tp, i) => {
            const code = codes[i];
            if (code === 0 || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return;
            if (code === ErrorCode.INVALID_PRODUCER_EPOCH) {
              // The partition already has a newer epoch of this producer: this transaction was fenced there.
              this.broker.logger.warn(`marker for producer ${marker.producerId} epoch ${marker.producerEpoch} refused by ${tp.topic}-${tp.partition}: ${errorName(code)}`);
              return;
            }
            failed.push(tp);
          });
        }),
      );
      remaining = failed;
      if (remaining.length > 0) {
        this.broker.requestMetadataRefresh();
        await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS));
      }
    }
    return true;
  }

  private async sendTo(leader: number, marker: TxnMarker, tps: TxnPartition[]): Promise<number[]> {
    const topics = new Map<string, number[]>();
    for (const tp of tps) topics.set(tp.topic, [...(topics.get(tp.topic) ?? []), tp.partition]);
    try {
      const client = await this.clients.get(leader);
      const res = await client.request(
        WriteTxnMarkers,
        1,
        {
          markers: [
            {
              producerId: marker.producerId,
              producerEpoch: marker.producerEpoch,
              transactionResult: marker.commit,
              coordinatorEpoch: marker.coordinatorEpoch,
              topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
            },
          ],
        },
        MARKER_REPLICATION_TIMEOUT_MS + 5000,
      );
      const results = res.markers[0]?.topics ?? [];
      return tps.map((tp) => results.find((t) => t.name === tp.topic)?.partitions.find((p) => p.partitionIndex === tp.partition)?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR);
    } catch (err) {
      this.broker.logger.debug(`WriteTxnMarkers to broker ${leader} failed: ${(err as Error).message}`);
      this.clients.drop(leader);
      return tps.map(() => ErrorCode.NETWORK_EXCEPTION);
    }
  }

  close(): void {
    this.clients.close();
  }
}
