// Idempotent producer bookkeeping (Kafka's ProducerStateManager, simplified): for each producer id and
// partition, the epoch and the last five batches' sequence ranges, so a retried batch is answered with its
// original offset instead of being written twice, and a gap in sequences is refused.

import { ErrorCode, KafkaError } from '../protocol/errorCode';

interface BatchMeta {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchMeta[];
}

const KEEP_BATCHES = 5;

export type SequenceCheck = { kind: 'append' } | { kind: 'duplicate'; baseOffset: number };

export class ProducerStateManager {
  private readonly entries = new Map<string, ProducerEntry>();

  private key(partitionKey: string, producerId: number): string {
    return `${partitionKey}/${producerId}`;
  }

  /** Decides whether a batch from an idempotent producer is new, a duplicate, or out of order. */
  check(partitionKey: string, producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceCheck {
    const entry = this.entries.get(this.key(partitionKey, producerId));
    // Unknown producer (new, or state lost with a restart): accept any sequence, as Kafka does.
    if (!entry) return { kind: 'append' };
    if (epoch < entry.epoch) throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `Producer epoch ${epoch} is older than current ${entry.epoch}`);
    if (epoch > entry.epoch) {
      if (firstSeq !== 0) throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `New epoch ${epoch} must start at sequence 0, got ${firstSeq}`);
      return { kind: 'append' };
    }
    const dup = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
    if (dup) return { kind: 'duplicate', baseOffset: dup.baseOffset };
    const last = entry.batches[entry.batches.length - 1];
    if (last && firstSeq !== ((last.lastSeq + 1) | 0) && !(last.lastSeq === 2147483647 && firstSeq === 0)) {
      throw new KafkaError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `Out of order sequence number for producer ${producerId}: expected ${last.lastSeq + 1}, got ${firstSeq}`,
      );
    }
    return { kind: 'append' };
  }

  record(partitionKey: string, producerId: number, epoch: number, firstSeq: number, lastSeq: number, baseOffset: number): void {
    const k = this.key(partitionKey, producerId);
    let entry = this.entries.get(k);
    if (!entry || epoch > entry.epoch) {
      entry = { epoch, batches: [] };
      this.entries.set(k, entry);
    }
    entry.batches.push({ firstSeq, lastSeq, baseOffset });
    if (entry.batches.length > KEEP_BATCHES) entry.batches.shift();
  }

  forgetPartition(partitionKey: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(`${partitionKey}/`)) this.entries.delete(k);
  }
}
