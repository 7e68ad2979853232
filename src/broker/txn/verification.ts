// Transaction verification on partition leaders (KIP-890 part 1, Kafka >= 3.6): before appending a producer's first
// transactional batch to a partition, the leader asks the transaction coordinator (AddPartitionsToTxn v4,
// VerifyOnly) whether the partition is in that producer's ongoing transaction. A batch that is not — a zombie
// producer, or one that skipped AddPartitionsToTxn — is refused instead of leaving a transaction open on the
// partition that no marker would ever close (a hanging transaction, which stops the LSO for good).
// Later batches of the same transaction need no question: the producer state shows the transaction open.

import { AddPartitionsToTxn } from '../../protocol/apis/24-add-partitions-to-txn';
import { ErrorCode } from '../../protocol/errorCode';
import type { Broker } from '../broker';
import type { Partition } from '../partition';
import { InterBrokerClients } from './interBrokerClients';
import { TRANSACTION_STATE_TOPIC } from './stateRecords';

const VERIFY_TIMEOUT_MS = 5000;

export class TxnVerifier {
  private readonly clients: InterBrokerClients;
  /** The tail of each (partition, producer)'s queue of batches waiting for a verification, in arrival order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly broker: Broker) {
    this.clients = new InterBrokerClients(broker, `txn-verifier-${broker.nodeId}`);
  }

  /** Whether a transactional batch must be verified first: its producer has no transaction open here in this epoch. */
  needsVerification(partition: Partition, producerId: number, producerEpoch: number): boolean {
    return this.queues.has(queueKey(partition, producerId)) || !isOpenHere(partition, producerId, producerEpoch);
  }

  /**
   * Runs `task` after the batches of the same producer to the same partition that wait already, so that a
   * producer's pipelined batches are appended in the order they came.
   */
  enqueue(partition: Partition, producerId: number, task: () => Promise<void>): Promise<void> {
    const key = queueKey(partition, producerId);
    const next = (this.queues.get(key) ?? Promise.resolve()).then(task, task);
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return next;
  }

  /**
   * Asks the coordinator of `transactionalId`. Returns 0 when the partition is in the producer's transaction, the
   * error for the Produce response otherwise: INVALID_PRODUCER_EPOCH for a fenced producer, INVALID_TXN_STATE
   * for a partition outside its transaction, NOT_ENOUGH_REPLICAS (retriable, as Kafka answers) when the
   * coordinator cannot be asked now.
   */
  async verify(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<number> {
    if (!transactionalId) return ErrorCode.INVALID_TXN_STATE;
    const index = this.broker.txns.partitionFor(transactionalId);
    const leader = this.broker.topicState(TRANSACTION_STATE_TOPIC)?.partitions[index]?.leader ?? -1;
    let code: number;
    if (leader < 0) code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    else if (leader === this.broker.nodeId) code = this.broker.txns.verifyPartitions(transactionalId, producerId, producerEpoch, [{ topic, partition }])[0];
    else {
      try {
        const client = await this.clients.get(leader);
        const res = await client.request(
          AddPartitionsToTxn,
          4,
          { transactions: [{ transactionalId, producerId, producerEpoch, verifyOnly: true, topics: [{ name: topic, partitions: [partition] }] }] },
          VERIFY_TIMEOUT_MS,
        );
        code = res.errorCode || (res.resultsByTransaction[0]?.topicResults[0]?.results[0]?.partitionErrorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR);
      } catch (err) {
        this.broker.logger.debug(`transaction verification with broker ${leader} failed: ${(err as Error).message}`);
        this.clients.drop(leader);
        code = ErrorCode.NETWORK_EXCEPTION;
      }
    }
    switch (code) {
      case 0:
        return 0;
      case ErrorCode.PRODUCER_FENCED:
      case ErrorCode.INVALID_PRODUCER_EPOCH:
        return ErrorCode.INVALID_PRODUCER_EPOCH;
      case ErrorCode.INVALID_TXN_STATE:
      case ErrorCode.INVALID_PRODUCER_ID_MAPPING:
        return ErrorCode.INVALID_TXN_STATE;
      default:
        return ErrorCode.NOT_ENOUGH_REPLICAS;
    }
  }

  close(): void {
    this.clients.close();
  }
}

/** Whether the producer has a transaction open on this partition in this epoch (its batches were verified). */
export function isOpenHere(partition: Partition, producerId: number, producerEpoch: number): boolean {
  const entry = partition.log.producerState.entry(producerId);
  return !!entry && entry.epoch === producerEpoch && entry.currentTxnFirstOffset >= 0;
}

function queueKey(partition: Partition, producerId: number): string {
  return `${partition.key}\u0000${producerId}`;
}
